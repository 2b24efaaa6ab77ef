import Foundation
import FuzzSupport
import VigieCore

@testable import VigieStore

/// libFuzzer target: checkpoint files as `vigied` finds them at startup.
///
/// The input becomes `<state_dir>/checkpoints/<lsn>.checkpoint`, read back by
/// ``CheckpointStore`` (`load(path:)`, `loadNewest()`, `list()`); a payload that checks
/// is restored with the daemon's own codec (`DaemonModel.restore(checkpoint:)`, through
/// `EngineCheckpoint.restore`: the producers' anti-replay windows, the KPI engine's
/// windows, the alert states and the operator actions, each section through its
/// VigieCore decoder), then the restored state is run (published, alerted on, ticked,
/// a sample applied) and checkpointed again.
///
/// Input: `flags`, then the file. Flags bit 0: repair the header first — magic,
/// version, payload length and both CRCs made right — so that mutations reach the
/// payload decoders (the file's bytes after the 40-byte header are the payload).
///
/// Invariants: a checkpoint loads only if its header and CRCs check, and then gives
/// back exactly its payload and LSN, and writing that back gives the same file byte for
/// byte (`load` refuses header flags it does not know);
/// `loadNewest` agrees with `load`; a restore throws or leaves a state that runs and
/// checkpoints to bytes that restore, and restore again to the same bytes.
enum FuzzCheckpoint {
    static let directory = Scratch.directory("checkpoints")
    static let lsn: UInt64 = 4_096

    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 1 else { return }
        var file = Array(input[1...])
        if input[0] & 1 != 0 { repair(&file) }
        let store = CheckpointStore(directory: directory)
        let name = CheckpointStore.fileName(lsn: lsn)
        let path = directory + "/" + name
        Scratch.clear(directory)
        Scratch.write(file, to: path)
        guard store.list() == [lsn] else { fatalError("invariant: list() does not find \(name)") }

        let loaded: CheckpointStore.Loaded
        do {
            loaded = try store.load(path: path)
        } catch {
            let newest = store.loadNewest()
            guard newest.checkpoint == nil, newest.problems.count == 1 else {
                fatalError("invariant: loadNewest disagrees with load")
            }
            return
        }
        let header = CheckpointStore.headerSize
        guard file.count >= header, file.prefix(8).elementsEqual(CheckpointStore.magic),
            loaded.lsn == file.load(UInt64.self, at: 16), loaded.payload[...] == file[header...],
            file.load(UInt32.self, at: 32) == CRC32C.checksum(loaded.payload)
        else {
            fatalError("invariant: a checkpoint loads that does not check, or not as written")
        }
        guard let newest = store.loadNewest().checkpoint, newest.lsn == loaded.lsn, newest.payload == loaded.payload
        else {
            fatalError("invariant: loadNewest disagrees with load")
        }
        // Written back at its LSN: the same file (the header is a function of LSN and payload).
        Scratch.clear(directory)
        do {
            try store.write(lsn: loaded.lsn, payload: loaded.payload)
        } catch {
            fatalError("invariant: a loaded checkpoint cannot be written back: \(error)")
        }
        // Byte for byte: `load` refuses unknown flags, so a loaded file has none either.
        let path2 = directory + "/" + CheckpointStore.fileName(lsn: loaded.lsn)
        guard let written = FileManager.default.contents(atPath: path2).map([UInt8].init), written[...] == file[...]
        else { fatalError("invariant: written back differently") }

        restore(loaded.payload)
    }

    /// The daemon's restore of `payload`, then what it does with the state.
    static func restore(_ payload: [UInt8]) {
        let model = DaemonModel()
        do {
            try model.restore(checkpoint: payload)
        } catch {
            return  // the daemon falls back to an older checkpoint, or to the whole log
        }
        let again = model.encodeCheckpoint()
        model.run(now: DaemonModel.now)
        let line = "guichet_attente,service=etat-civil,site=nord value=31 \(DaemonModel.now)\n"
        Array(line.utf8).withUnsafeBytes { model.apply(frames: [$0], at: DaemonModel.now) }
        model.run(now: DaemonModel.now + 60_000_000_000)
        _ = model.encodeCheckpoint(now: DaemonModel.now + 60_000_000_000)

        let restored = DaemonModel()
        do {
            try restored.restore(checkpoint: again)
        } catch {
            fatalError("invariant: the checkpoint of a restored state does not restore: \(error)")
        }
        guard restored.encodeCheckpoint() == again else { fatalError("invariant: checkpoint → restore is not stable") }
    }

    /// Makes the header right for the bytes after it.
    static func repair(_ file: inout [UInt8]) {
        let header = CheckpointStore.headerSize
        if file.count < header { file += [UInt8](repeating: 0, count: header - file.count) }
        file.replaceSubrange(0..<8, with: CheckpointStore.magic)
        file.store(CheckpointStore.version, at: 8)
        file.store(UInt64(file.count - header), at: 24)
        file.store(CRC32C.checksum(file[header...]), at: 32)
        file.store(CRC32C.checksum(file[0..<36]), at: 36)
    }
}

/// libFuzzer's own entry point, for its `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    FuzzCheckpoint.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
