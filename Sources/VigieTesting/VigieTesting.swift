// VigieTesting: see DESIGN.md.
