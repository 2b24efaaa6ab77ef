// ZeroMQ: see DESIGN.md.
