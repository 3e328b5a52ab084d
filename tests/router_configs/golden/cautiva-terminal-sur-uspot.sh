#!/bin/sh
# Cautiva: uspot hotspot on OpenWrt for point "Terminal Sur",
# NAS-Identifier terminal-sur. Made by: cautiva point config terminal-sur --router openwrt-uspot
# Run it as a file on the router: copy it over (scp), then: sh cautiva-terminal-sur-uspot.sh
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

[ -x /etc/init.d/uspot ] || install_packages uspot uspot-www

# The captive network 10.1.0.0/24 on its own bridge; dnsmasq serves its DHCP.
uci -q batch <<'CAUTIVA_UCI'
delete network.cautiva_dev
set network.cautiva_dev=device
set network.cautiva_dev.type='bridge'
set network.cautiva_dev.name='bridge-hotspot'
set network.cautiva_dev.bridge_empty='1'
delete network.cautiva
set network.cautiva=interface
set network.cautiva.proto='static'
set network.cautiva.device='bridge-hotspot'
set network.cautiva.ipaddr='10.1.0.1'
set network.cautiva.netmask='255.255.255.0'
commit network
delete dhcp.cautiva
set dhcp.cautiva=dhcp
set dhcp.cautiva.interface='cautiva'
set dhcp.cautiva.start='2'
set dhcp.cautiva.limit='253'
set dhcp.cautiva.leasetime='1h'
add_list dhcp.cautiva.dhcp_option='114,https://portal.cautiva.example/api/v1/captive-portal?nas=terminal-sur'
delete dhcp.cautiva_portal
set dhcp.cautiva_portal=ipset
add_list dhcp.cautiva_portal.name='cautiva_portal'
add_list dhcp.cautiva_portal.domain='portal.cautiva.example'
commit dhcp
CAUTIVA_UCI
# One open access point on every radio, in the captive network. OpenWrt ships radios disabled.
SSID='Wi-Fi Gratis'
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

# Firewall, after uspot's README: unauthenticated clients reach only DHCP, DNS, the router's
# pages and the portal (set cautiva_portal, filled by dnsmasq); port 80 goes to uspot, which
# answers the phones' captive-portal probes. Authenticated clients (set cautiva_clients, kept
# by uspot) go out to the WAN. A portal on plain http port 80 would be caught too: use https.
uci -q batch <<'CAUTIVA_UCI'
delete firewall.cautiva_zone
set firewall.cautiva_zone=zone
set firewall.cautiva_zone.name='cautiva'
add_list firewall.cautiva_zone.network='cautiva'
set firewall.cautiva_zone.input='REJECT'
set firewall.cautiva_zone.output='ACCEPT'
set firewall.cautiva_zone.forward='REJECT'
delete firewall.cautiva_clients
set firewall.cautiva_clients=ipset
set firewall.cautiva_clients.name='cautiva_clients'
add_list firewall.cautiva_clients.match='src_mac'
delete firewall.cautiva_portal
set firewall.cautiva_portal=ipset
set firewall.cautiva_portal.name='cautiva_portal'
add_list firewall.cautiva_portal.match='dest_ip'
delete firewall.cautiva_cpd
set firewall.cautiva_cpd=redirect
set firewall.cautiva_cpd.name='Cautiva-CPD-unauth'
set firewall.cautiva_cpd.src='cautiva'
set firewall.cautiva_cpd.src_dport='80'
set firewall.cautiva_cpd.proto='tcp'
set firewall.cautiva_cpd.target='DNAT'
set firewall.cautiva_cpd.reflection='0'
set firewall.cautiva_cpd.ipset='!cautiva_clients'
delete firewall.cautiva_dhcp
set firewall.cautiva_dhcp=rule
set firewall.cautiva_dhcp.name='Cautiva-DHCP'
set firewall.cautiva_dhcp.src='cautiva'
set firewall.cautiva_dhcp.proto='udp'
set firewall.cautiva_dhcp.dest_port='67'
set firewall.cautiva_dhcp.target='ACCEPT'
delete firewall.cautiva_router
set firewall.cautiva_router=rule
set firewall.cautiva_router.name='Cautiva-DNS-CPD-UAM'
set firewall.cautiva_router.src='cautiva'
set firewall.cautiva_router.dest_ip='10.1.0.1'
set firewall.cautiva_router.proto='tcp udp'
set firewall.cautiva_router.dest_port='53 80 3990'
set firewall.cautiva_router.target='ACCEPT'
delete firewall.cautiva_portal_out
set firewall.cautiva_portal_out=rule
set firewall.cautiva_portal_out.name='Cautiva-portal'
set firewall.cautiva_portal_out.src='cautiva'
set firewall.cautiva_portal_out.dest='wan'
set firewall.cautiva_portal_out.proto='tcp'
set firewall.cautiva_portal_out.ipset='cautiva_portal'
set firewall.cautiva_portal_out.target='ACCEPT'
delete firewall.cautiva_out
set firewall.cautiva_out=rule
set firewall.cautiva_out.name='Cautiva-authenticated'
set firewall.cautiva_out.src='cautiva'
set firewall.cautiva_out.dest='wan'
set firewall.cautiva_out.proto='all'
set firewall.cautiva_out.ipset='cautiva_clients'
set firewall.cautiva_out.target='ACCEPT'
delete firewall.cautiva_das
set firewall.cautiva_das=rule
set firewall.cautiva_das.name='Cautiva-Disconnect'
set firewall.cautiva_das.src='wan'
set firewall.cautiva_das.proto='udp'
set firewall.cautiva_das.family='ipv4'
set firewall.cautiva_das.dest_port='3799'
add_list firewall.cautiva_das.src_ip='203.0.113.10'
add_list firewall.cautiva_das.src_ip='198.51.100.20'
set firewall.cautiva_das.target='ACCEPT'
commit firewall
CAUTIVA_UCI

# uhttpd serves uspot's pages on the captive address; the default instance listening on every
# address would take port 80 first, so it keeps only the LAN address.
lan=$(uci -q get network.lan.ipaddr || true)
lan=${lan%%/*}
if [ -n "$lan" ] && uci -q get uhttpd.main.listen_http | grep -q -e '0\.0\.0\.0:80' -e '\[::\]:80'; then
	uci -q delete uhttpd.main.listen_http || true
	uci add_list "uhttpd.main.listen_http=$lan:80"
	uci -q delete uhttpd.main.listen_https || true
	uci add_list "uhttpd.main.listen_https=$lan:443"
fi
uci -q batch <<'CAUTIVA_UCI'
delete uhttpd.cautiva
set uhttpd.cautiva=uhttpd
add_list uhttpd.cautiva.listen_http='10.1.0.1:80'
set uhttpd.cautiva.redirect_https='0'
set uhttpd.cautiva.max_requests='5'
set uhttpd.cautiva.no_dirlists='1'
set uhttpd.cautiva.home='/www-uspot'
add_list uhttpd.cautiva.ucode_prefix='/hotspot=/usr/share/uspot/handler.uc'
add_list uhttpd.cautiva.ucode_prefix='/cpd=/usr/share/uspot/handler-cpd.uc'
set uhttpd.cautiva.error_page='/cpd'
delete uhttpd.cautiva_uam
set uhttpd.cautiva_uam=uhttpd
add_list uhttpd.cautiva_uam.listen_http='10.1.0.1:3990'
set uhttpd.cautiva_uam.redirect_https='0'
set uhttpd.cautiva_uam.max_requests='5'
set uhttpd.cautiva_uam.no_dirlists='1'
set uhttpd.cautiva_uam.home='/www-uspot'
add_list uhttpd.cautiva_uam.ucode_prefix='/logon=/usr/share/uspot/handler-uam.uc'
add_list uhttpd.cautiva_uam.ucode_prefix='/logoff=/usr/share/uspot/handler-uam.uc'
add_list uhttpd.cautiva_uam.ucode_prefix='/logout=/usr/share/uspot/handler-uam.uc'
commit uhttpd
CAUTIVA_UCI

# uspot in UAM mode (options: files/etc/config/uspot in the uspot sources). The portal reads
# the redirect (uam_server?res=notyet&...&md=) and logs in at uamip:3990/logon. The Disconnect
# server (RFC 5176) shares the RADIUS secret.
uci -q batch <<'CAUTIVA_UCI'
delete uspot.cautiva
set uspot.cautiva=uspot
set uspot.cautiva.auth_mode='uam'
set uspot.cautiva.interface='cautiva'
set uspot.cautiva.setname='cautiva_clients'
set uspot.cautiva.auth_server='203.0.113.10'
set uspot.cautiva.auth_port='1812'
set uspot.cautiva.auth_secret='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set uspot.cautiva.acct_server='203.0.113.10'
set uspot.cautiva.acct_port='1813'
set uspot.cautiva.acct_secret='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set uspot.cautiva.auth_server2='198.51.100.20'
set uspot.cautiva.auth_port2='1812'
set uspot.cautiva.auth_secret2='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set uspot.cautiva.acct_server2='198.51.100.20'
set uspot.cautiva.acct_port2='1813'
set uspot.cautiva.acct_secret2='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set uspot.cautiva.acct_interval='300'
set uspot.cautiva.das_secret='q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A'
set uspot.cautiva.das_port='3799'
set uspot.cautiva.nasid='terminal-sur'
set uspot.cautiva.uam_port='3990'
set uspot.cautiva.uam_server='https://portal.cautiva.example/p/terminal-sur'
set uspot.cautiva.uam_secret='Ue4Jt9Qw2Zr7Xn5Bv8Mc3Lk6Hp1Sd0Fa'
set uspot.cautiva.challenge='bef1cdc11ba0661dd0ed109444d741ba'
commit uspot
CAUTIVA_UCI
# uspot sends a MAC of the router as Called-Station-Id; only the router knows it (the captive
# bridge appears once the network reloads, so the LAN's or eth0's serve on the first run).
for device in bridge-hotspot br-lan eth0; do
	if [ -r "/sys/class/net/$device/address" ]; then
		uci set "uspot.cautiva.nasmac=$(cat "/sys/class/net/$device/address")"
		uci commit uspot
		break
	fi
done
[ "$(uci -q get uspot.cautiva.nasid)" = 'terminal-sur' ] || fail "the uci batch did not apply"

# uspot does not install the WISPr dictionary radcli needs to read the bandwidth caps Cautiva
# sends; add it unless some dictionary already defines the vendor.
if [ -d /etc/radcli ] && ! grep -q -r 14122 /etc/radcli; then
	cat > /etc/radcli/dictionary.wispr <<'CAUTIVA_DICTIONARY'
VENDOR	WISPr	14122
ATTRIBUTE	WISPr-Location-ID	1	string	WISPr
ATTRIBUTE	WISPr-Location-Name	2	string	WISPr
ATTRIBUTE	WISPr-Logoff-URL	3	string	WISPr
ATTRIBUTE	WISPr-Redirection-URL	4	string	WISPr
ATTRIBUTE	WISPr-Bandwidth-Min-Up	5	integer	WISPr
ATTRIBUTE	WISPr-Bandwidth-Min-Down	6	integer	WISPr
ATTRIBUTE	WISPr-Bandwidth-Max-Up	7	integer	WISPr
ATTRIBUTE	WISPr-Bandwidth-Max-Down	8	integer	WISPr
ATTRIBUTE	WISPr-Session-Terminate-Time	9	string	WISPr
ATTRIBUTE	WISPr-Session-Terminate-End-Of-Day	10	string	WISPr
ATTRIBUTE	WISPr-Billing-Class-Of-Service	11	string	WISPr
CAUTIVA_DICTIONARY
	echo '$INCLUDE /etc/radcli/dictionary.wispr' >> /etc/radcli/dictionary
fi

# Heartbeat: cron runs /usr/bin/cautiva-heartbeat every 5 minutes.
touch /etc/config/cautiva
uci -q batch <<'CAUTIVA_UCI'
delete cautiva.heartbeat
set cautiva.heartbeat=heartbeat
set cautiva.heartbeat.url='https://portal.cautiva.example/api/v1/points/terminal-sur/heartbeat'
set cautiva.heartbeat.key='27be90ccc8dc0417774ced6a0d6aaa03'
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
for service in firewall dnsmasq uhttpd uspot cron; do
	/etc/init.d/$service enable
	/etc/init.d/$service restart
done
echo "cautiva: point terminal-sur configured"
