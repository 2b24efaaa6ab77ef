/// The version every Vigie executable reports (`--version`, `vigie status`, the agent's
/// HELLO log lines).
public enum VigieVersion {
    public static let string = "0.6.0"
}
