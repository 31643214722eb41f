"""Demo data: a few hundred invented cases in three offices, through the application service.

``fill_demo(app)`` writes the cases of Blankenberge, Essen and Menen (``offices.py``) with
plausible trajectories up to the end of the demo period. The stories are seeded and every
id derives from the office, the case and the step, so a second run stores nothing.
"""

from services.demo.run import DemoReport, demo_items, fill_demo

__all__ = ["DemoReport", "demo_items", "fill_demo"]
