"""Documents: lecture notes, the catalogue, the network diagram, PDF compilation."""
