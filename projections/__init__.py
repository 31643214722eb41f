"""Read side of Doorstroom: projection workers, read models and reports."""
