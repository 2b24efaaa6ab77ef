// VigieConfig: see DESIGN.md.
