"""Write side of Doorstroom: settings, infrastructure, store and entry points."""
