"""The event contract: envelope, catalogue, stored names, upcasters and subjects."""
