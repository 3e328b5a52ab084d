"""The splash pages a phone sees between joining the Wi-Fi and browsing."""
