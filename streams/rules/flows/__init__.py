"""Eligibility flows: one module a flow (an ordered rule table), ``base`` for their shared shape, ``whatif`` for the
summary's "dismiss all Prop 64" flow, and ``registry`` for the flows counties can run."""
