/// The collector agent (`vigie agent`): store-and-forward of every department's scripts,
/// probes and files to `vigied`, with a local disk spool so nothing is lost while the
/// daemon or the network is down.
public enum VigieAgentModule {
    /// Spool format version this agent writes (segments use the WAL format, see
    /// docs/durability.md).
    public static let spoolVersion = 1
}
