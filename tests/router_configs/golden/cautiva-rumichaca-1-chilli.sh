#!/bin/sh
# Cautiva: CoovaChilli hotspot on OpenWrt for point "Paso Fronterizo Rumichaca",
# NAS-Identifier rumichaca-1. Made by: cautiva point config rumichaca-1 --router openwrt-chilli
# Run it as a file on the router: copy it over (scp), then: sh cautiva-rumichaca-1-chilli.sh
# It stops at the first error (which would also close a shell it was pasted into) and is safe
# to run again: it replaces the uci sections named cautiva*. With CAUTIVA_NO_RESTART=1 it
# leaves the services alone (the first-boot hook /etc/uci-defaults/90-cautiva sets it).
set -eu

fail() {
	echo "cautiva: $*" >&2
	exit 1
}

# apk from OpenWrt 25.x on, opkg before.
install_packages() {
	if command -v apk >/dev/null 2>&1; then
		apk update && apk add "$@"
	elif command -v opkg >/dev/null 2>&1; then
		opkg update && opkg install "$@"
	else
		fail "neither apk nor opkg found: is this OpenWrt?"
	fi
}

[ -x /etc/init.d/chilli ] || install_packages coova-chilli

# The captive bridge: chilli answers DHCP on it and owns the clients' network 10.1.0.0/24
# through its tun device; the bridge itself gets no address.
uci -q batch <<'CAUTIVA_UCI'
delete network.cautiva_dev
set network.cautiva_dev=device
set network.cautiva_dev.type='bridge'
set network.cautiva_dev.name='bridge-hotspot'
set network.cautiva_dev.bridge_empty='1'
delete network.cautiva
set network.cautiva=interface
set network.cautiva.proto='none'
set network.cautiva.device='bridge-hotspot'
commit network
CAUTIVA_UCI
# One open access point on every radio, in the captive network. OpenWrt ships radios disabled.
SSID='Wi-Fi Gratis Rumichaca'
if [ -f /etc/config/wireless ]; then
	for radio in $(uci -q show wireless | sed -n 's/^wireless\.\([A-Za-z0-9_]*\)=wifi-device$/\1/p'); do
		iface="cautiva_$radio"
		uci -q delete "wireless.$iface" || true
		uci set "wireless.$iface=wifi-iface"
		uci set "wireless.$iface.device=$radio"
		uci set "wireless.$iface.mode=ap"
		uci set "wireless.$iface.ssid=$SSID"
		uci set "wireless.$iface.encryption=none"
		uci set "wireless.$iface.network=cautiva"
		uci set "wireless.$radio.disabled=0"
	done
	uci commit wireless
fi

# CoovaChilli (src/cmdline.ggo has every option). A named section: chilli.init starts one
# chilli per section and reads any `disabled` option, whatever its value, as disabled. It also
# writes each value between double quotes, which is why Cautiva refuses secrets with " or \.
uci -q batch <<'CAUTIVA_UCI'
delete chilli.cautiva
set chilli.cautiva=chilli
set chilli.cautiva.tundev='tun0'
set chilli.cautiva.dhcpif='bridge-hotspot'
set chilli.cautiva.net='10.1.0.0/24'
set chilli.cautiva.uamlisten='10.1.0.1'
set chilli.cautiva.dns1='10.1.0.1'
set chilli.cautiva.lease='3600'
set chilli.cautiva.radiusserver1='203.0.113.10'
set chilli.cautiva.radiusserver2='198.51.100.20'
set chilli.cautiva.radiusauthport='1812'
set chilli.cautiva.radiusacctport='1813'
set chilli.cautiva.radiussecret='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set chilli.cautiva.radiusnasid='rumichaca-1'
set chilli.cautiva.coaport='3799'
set chilli.cautiva.definteriminterval='300'
set chilli.cautiva.uamserver='https://portal.cautiva.example/p/rumichaca-1'
set chilli.cautiva.uamsecret='Ue4Jt9Qw2Zr7Xn5Bv8Mc3Lk6Hp1Sd0Fa'
set chilli.cautiva.uamport='3990'
set chilli.cautiva.uamallowed='portal.cautiva.example'
commit chilli
CAUTIVA_UCI

# Firewall: chilli's clients come out of tun0. Before login chilli itself lets through only DNS
# and the portal (uamallowed); the router answers DNS and the UAM port. RFC 8910's DHCP option
# 114 is not offered: chilli's DHCP server has no custom options.
uci -q batch <<'CAUTIVA_UCI'
delete firewall.cautiva_zone
set firewall.cautiva_zone=zone
set firewall.cautiva_zone.name='cautiva'
add_list firewall.cautiva_zone.device='tun0'
set firewall.cautiva_zone.input='REJECT'
set firewall.cautiva_zone.output='ACCEPT'
set firewall.cautiva_zone.forward='REJECT'
delete firewall.cautiva_forward
set firewall.cautiva_forward=forwarding
set firewall.cautiva_forward.src='cautiva'
set firewall.cautiva_forward.dest='wan'
delete firewall.cautiva_router
set firewall.cautiva_router=rule
set firewall.cautiva_router.name='Cautiva-DNS-UAM'
set firewall.cautiva_router.src='cautiva'
set firewall.cautiva_router.dest_ip='10.1.0.1'
set firewall.cautiva_router.proto='tcp udp'
set firewall.cautiva_router.dest_port='53 3990'
set firewall.cautiva_router.target='ACCEPT'
delete firewall.cautiva_das
set firewall.cautiva_das=rule
set firewall.cautiva_das.name='Cautiva-Disconnect'
set firewall.cautiva_das.src='wan'
set firewall.cautiva_das.proto='udp'
set firewall.cautiva_das.dest_port='3799'
add_list firewall.cautiva_das.src_ip='203.0.113.10'
add_list firewall.cautiva_das.src_ip='198.51.100.20'
set firewall.cautiva_das.target='ACCEPT'
commit firewall
CAUTIVA_UCI
[ "$(uci -q get chilli.cautiva.radiusnasid)" = 'rumichaca-1' ] || fail "the uci batch did not apply"

# Heartbeat: cron runs /usr/bin/cautiva-heartbeat every 5 minutes.
touch /etc/config/cautiva
uci -q batch <<'CAUTIVA_UCI'
delete cautiva.heartbeat
set cautiva.heartbeat=heartbeat
set cautiva.heartbeat.url='https://portal.cautiva.example/api/v1/points/rumichaca-1/heartbeat'
set cautiva.heartbeat.key='d62da6e69fd2c51c4c227f34968cdbac'
commit cautiva
CAUTIVA_UCI
cat > /usr/bin/cautiva-heartbeat <<'CAUTIVA_HEARTBEAT'
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
CAUTIVA_HEARTBEAT
chmod 0755 /usr/bin/cautiva-heartbeat
touch /etc/crontabs/root
grep -q /usr/bin/cautiva-heartbeat /etc/crontabs/root ||
	echo '*/5 * * * * /usr/bin/cautiva-heartbeat' >> /etc/crontabs/root

if [ "${CAUTIVA_NO_RESTART:-0}" = 1 ]; then
	exit 0
fi
/etc/init.d/network reload
wifi reload
for service in firewall chilli cron; do
	/etc/init.d/$service enable
	/etc/init.d/$service restart
done
echo "cautiva: point rumichaca-1 configured"
