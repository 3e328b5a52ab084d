"""Wi-Fi points: adding, finding, rotating secrets."""
