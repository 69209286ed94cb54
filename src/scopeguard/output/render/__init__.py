"""Drawing the import graph: `view` builds what to draw; one module per output format."""
