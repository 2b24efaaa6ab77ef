// VigieCLI: see DESIGN.md.
