import VigieCLI

await VigieCommand.main()
