# Cautiva: RouterOS hotspot for point "Terminal de Transportes Cúcuta",
# NAS-Identifier cucuta-terminal. Made by: cautiva point config cucuta-terminal --router routeros
# Needs RouterOS 7.15 or later (require-message-auth). Paste it into a terminal, or
# upload it and run: /import file-name=cautiva-cucuta-terminal.rsc
# Safe to run again: it updates what it made before, the objects named or commented "cautiva".
# Before running: the bridge bridge-hotspot exists, with the open Wi-Fi interfaces
# (SSID "Terminal de Transportes Cúcuta") as its ports, and the router reaches the internet.

# Cautiva knows the router by its NAS-Identifier, which RouterOS takes from the identity.
/system identity set name="cucuta-terminal"

# RADIUS for the hotspot. timeout=3s: 4G links are slow and Cautiva delays an Access-Reject
# by a second. The point's address may change (carrier NAT): the identity and secret count.
/radius remove [find comment="cautiva"]
/radius add service=hotspot address="203.0.113.10" secret="q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A" authentication-port=1812 accounting-port=1813 timeout=3s require-message-auth=yes-for-request-resp comment="cautiva"
/radius add service=hotspot address="198.51.100.20" secret="q7RZx2mN4vT8kLp3Wc9Hf6Yb1Dj5Gs0A" authentication-port=1812 accounting-port=1813 timeout=3s require-message-auth=yes-for-request-resp comment="cautiva"

# Disconnect-Requests (RFC 5176) end sessions that overrun their hour.
/radius incoming set accept=yes port=3799

# The clients' network: the router is 10.1.0.1, DHCP hands out the rest.
:if ([:len [/ip address find comment="cautiva"]] = 0) do={
    /ip address add comment="cautiva" address=10.1.0.1/24 interface="bridge-hotspot"
} else={
    /ip address set [find comment="cautiva"] address=10.1.0.1/24 interface="bridge-hotspot"
}
:if ([:len [/ip pool find name="cautiva"]] = 0) do={
    /ip pool add name="cautiva" ranges=10.1.0.2-10.1.0.254
} else={
    /ip pool set [find name="cautiva"] ranges=10.1.0.2-10.1.0.254
}
:if ([:len [/ip dhcp-server find name="cautiva"]] = 0) do={
    /ip dhcp-server add name="cautiva" interface="bridge-hotspot" address-pool="cautiva" lease-time=1h disabled=no
} else={
    /ip dhcp-server set [find name="cautiva"] interface="bridge-hotspot" address-pool="cautiva" lease-time=1h disabled=no
}
:if ([:len [/ip dhcp-server network find comment="cautiva"]] = 0) do={
    /ip dhcp-server network add comment="cautiva" address=10.1.0.0/24 gateway=10.1.0.1 dns-server=10.1.0.1
} else={
    /ip dhcp-server network set [find comment="cautiva"] address=10.1.0.0/24 gateway=10.1.0.1 dns-server=10.1.0.1
}
# RFC 8910: DHCP option 114 tells phones where the RFC 8908 Captive Portal API is.
:if ([:len [/ip dhcp-server option find name="cautiva-captive-portal"]] = 0) do={
    /ip dhcp-server option add name="cautiva-captive-portal" code=114 value="'https://portal.cautiva.example/api/v1/captive-portal\?nas=cucuta-terminal'"
} else={
    /ip dhcp-server option set [find name="cautiva-captive-portal"] code=114 value="'https://portal.cautiva.example/api/v1/captive-portal\?nas=cucuta-terminal'"
}
/ip dhcp-server network set [find comment="cautiva"] dhcp-option=cautiva-captive-portal
# Clients resolve names through the router: keep port 53 closed on the WAN (the default
# firewall does).
/ip dns set allow-remote-requests=yes
:if ([:len [/ip firewall nat find comment="cautiva"]] = 0) do={
    /ip firewall nat add comment="cautiva" chain=srcnat src-address=10.1.0.0/24 action=masquerade
} else={
    /ip firewall nat set [find comment="cautiva"] chain=srcnat src-address=10.1.0.0/24 action=masquerade
}

# The hotspot: RADIUS logins by http-chap or http-pap from the portal, accounting with interim
# updates, rate limits from RADIUS (Mikrotik-Rate-Limit), and no HTTPS redirect: a certificate
# for every site is impossible, phones detect the portal over plain HTTP.
:if ([:len [/ip hotspot profile find name="cautiva"]] = 0) do={
    /ip hotspot profile add name="cautiva" hotspot-address=10.1.0.1 use-radius=yes radius-accounting=yes radius-interim-update=5m login-by=http-chap,http-pap https-redirect=no rate-limit=""
} else={
    /ip hotspot profile set [find name="cautiva"] hotspot-address=10.1.0.1 use-radius=yes radius-accounting=yes radius-interim-update=5m login-by=http-chap,http-pap https-redirect=no rate-limit=""
}
:if ([:len [/ip hotspot find name="cautiva"]] = 0) do={
    /ip hotspot add name="cautiva" interface="bridge-hotspot" address-pool="cautiva" profile="cautiva" disabled=no
} else={
    /ip hotspot set [find name="cautiva"] interface="bridge-hotspot" address-pool="cautiva" profile="cautiva" disabled=no
}

# Before login only the portal is reachable. Never add the phones' captive-portal probes
# (connectivitycheck.gstatic.com, captive.apple.com, www.msftconnecttest.com): caught, they make
# the phone open the portal.
/ip hotspot walled-garden remove [find comment="cautiva"]
/ip hotspot walled-garden add dst-host="portal.cautiva.example" action=allow comment="cautiva"
/ip hotspot walled-garden ip remove [find comment="cautiva"]
/ip hotspot walled-garden ip add dst-host="portal.cautiva.example" protocol=tcp dst-port=443 action=accept comment="cautiva"

# login.html sends the phone to the portal with the hotspot's variables, URL-escaped ($(name-esc),
# help.mikrotik.com/docs/x/AQAyBQ); `error` carries a failed login back to the portal.
# It goes in the profile's html-directory (hotspot, or flash/hotspot where only flash/ survives
# a reboot), over the default page. /file add with contents= exists since RouterOS 7.9.
{
    :delay 2s
    :local dir [/ip hotspot profile get [find name="cautiva"] html-directory]
    :if ([:pick $dir 0 1] = "/") do={ :set dir [:pick $dir 1 [:len $dir]] }
    :local page ($dir . "/login.html")
    /file remove [find name=$page]
    /file add name=$page contents="<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"pragma\" content=\"no-cache\">\n<meta http-equiv=\"expires\" content=\"-1\">\n<meta http-equiv=\"refresh\" content=\"0; url=https://portal.cautiva.example/p/cucuta-terminal\?mac=\$(mac-esc)&amp;ip=\$(ip-esc)&amp;link-login-only=\$(link-login-only-esc)&amp;link-orig=\$(link-orig-esc)&amp;chap-id=\$(chap-id-esc)&amp;chap-challenge=\$(chap-challenge-esc)&amp;identity=\$(identity-esc)&amp;server-name=\$(server-name-esc)&amp;error=\$(error-esc)\">\n<title>Wi-Fi</title>\n</head>\n<body>\n<p><a href=\"https://portal.cautiva.example/p/cucuta-terminal\?mac=\$(mac-esc)&amp;ip=\$(ip-esc)&amp;link-login-only=\$(link-login-only-esc)&amp;link-orig=\$(link-orig-esc)&amp;chap-id=\$(chap-id-esc)&amp;chap-challenge=\$(chap-challenge-esc)&amp;identity=\$(identity-esc)&amp;server-name=\$(server-name-esc)&amp;error=\$(error-esc)\">Continuar &middot; Continue &middot; Continuer &middot; Kontinye</a></p>\n</body>\n</html>\n"
}

# Heartbeat: every 5 minutes the router tells the portal it is up, even with nobody online.
/system scheduler remove [find name="cautiva-heartbeat"]
/system scheduler add name="cautiva-heartbeat" interval=5m start-time=startup policy=read,write,test on-event="# Cautiva heartbeat. RouterOS has no load average: send CPU load x cores / 100 instead.\n:local up [:tonum [/system resource get uptime]]\n:local load ([/system resource get cpu-load] * [/system resource get cpu-count])\n:do {\n    /tool fetch url=\"https://portal.cautiva.example/api/v1/points/cucuta-terminal/heartbeat\" http-method=post http-header-field=\"Content-Type: application/x-www-form-urlencoded\" http-data=(\"key=7a6c7a1b39f3929e3a08e707d33aaed7&uptime=\" . \$up . \"&load=\" . (\$load / 100) . \".\" . ((\$load % 100) / 10) . (\$load % 10)) output=none\n} on-error={\n    :log warning \"cautiva: heartbeat to the portal failed\"\n}\n"
