"""What the READMEs show, regenerated from the code: `python -m sim.docs.figures`."""
