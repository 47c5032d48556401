"""Running stored models: session cache, predictions, online learning."""
