#!/bin/sh
# Cautiva heartbeat: tells the portal this router is up, with its uptime and 1-minute load.
# Run by cron every 5 minutes; the URL and key come from /etc/config/cautiva.
url=$(uci -q get cautiva.heartbeat.url) || exit 0
key=$(uci -q get cautiva.heartbeat.key) || exit 0
read -r uptime _ < /proc/uptime
read -r load _ < /proc/loadavg
body="key=$key&uptime=${uptime%%.*}&load=$load"
# uclient-fetch is in every OpenWrt image (and sends a form content type with --post-data);
# wget is the fallback on other builds.
if command -v uclient-fetch >/dev/null 2>&1; then
	exec uclient-fetch -q -T 20 -O /dev/null --post-data="$body" "$url"
fi
exec wget -q -T 20 -O /dev/null --post-data="$body" "$url"
