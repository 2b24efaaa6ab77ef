// VigieDaemon: see DESIGN.md.
