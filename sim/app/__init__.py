"""The interactive app (`plumbing app`): a market with the levers a user sets, beside its twin without them.

`twin` builds the two markets and steps them in lockstep, `panels` draws the dashboard's
panels for both, and neither imports the web stack; `page` is the Mesa SolaraViz page and
needs the optional `app` extra (`pip install -c requirements.lock -e ".[app]"`).
"""
