"""``fmd-fleet``: the fleet's health, from MQTT to Prometheus metrics and a fleet page (README, "Fleet")."""
