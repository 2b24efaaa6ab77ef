import CZeroMQ

/// The version of the libzmq this process runs with.
public enum ZMQVersion {
    /// The loaded libzmq's version (`zmq_version`), e.g. `(4, 3, 4)`.
    public static var current: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// `true` when the loaded libzmq offers `capability` (`zmq_has`): `"curve"`, `"ipc"`, `"draft"`…
    public static func has(_ capability: String) -> Bool {
        zmq_has(capability) != 0
    }
}
