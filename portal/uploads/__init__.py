"""Uploads from the picker straight to Kaltura (DESIGN §3.4).

``sniff`` reads what a file really is from its first and last bytes before anything is sent to
Kaltura: its format against the allow-list, the Kaltura media type, a lying extension, and 360°
content with its evidence. The bytes themselves go from the browser to Kaltura through
``static/js/chunk_pump.js``; the portal never receives them.
"""
