"""The demo web page of the local stack: recommendations to click and a live A/B panel.

``static/`` holds the page (plain HTML, CSS and JavaScript; nothing from another
origin). :mod:`movierec.web.live_ab` computes the panel's read-out from the event log,
:mod:`movierec.web.pages` answers the page's HTTP routes.
"""
