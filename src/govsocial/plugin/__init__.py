"""Layer 2, the plugin system: hook specifications, the pluggy host and the house rules."""
