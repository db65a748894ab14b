"""Integration status (issue 10): what the gateway measured per hub, the admin status page, the support
dashboard and the diagnostic bundle.

``recording`` is the gateway's call recorder (no Flask); ``services`` reads the figures (no Flask);
``views`` holds the blueprint. The blueprint lives in ``views`` rather than here so that the
registry can import the recorder without importing the views.
"""
