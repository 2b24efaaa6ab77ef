import Foundation
import Synchronization
import VigieAgent
import VigieTesting

/// What a scheduler handed to its sink, for tests.
final class SinkRecorder: Sendable {
    private let batches = Mutex<[(lines: String, receivedAt: Int64)]>([])
    /// Batches still to refuse (as an agent whose queue is full does) before taking any.
    let refusals = Mutex(0)

    var sink: CollectorScheduler.Sink {
        { [self] lines, receivedAt in
            let refuse = refusals.withLock { left -> Bool in
                guard left > 0 else { return false }
                left -= 1
                return true
            }
            if refuse { return false }
            batches.withLock { $0.append((lines, receivedAt)) }
            return true
        }
    }

    var count: Int { batches.withLock { $0.count } }

    var allLines: [String] {
        batches.withLock { all in all.flatMap { $0.lines.split(separator: "\n").map(String.init) } }
    }

    /// Waits up to `timeout` seconds until `condition` holds.
    func wait(timeout: Double = 5, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("vigie-collector-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func append(_ text: String, to name: String) throws {
        let target = file(name)
        if !FileManager.default.fileExists(atPath: target) {
            _ = FileManager.default.createFile(atPath: target, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The lines of a report without the collector's own health samples.
func dataLines(_ lines: String) -> [String] {
    lines.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("vigie_collector_") }
}

/// `python3 -m http.server` on a free loopback port, serving a temporary directory.
final class PythonHTTPServer {
    let directory: TemporaryDirectory
    let port: Int
    private let child: ChildProcess
    private let logPath: String

    /// Starts the server; with `tlsDays`, serves HTTPS with a self-signed certificate
    /// (made by `openssl req`) valid for that many days.
    init(tlsDays: Int? = nil) throws {
        directory = try TemporaryDirectory()
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: directory.file("index.html")))
        logPath = directory.file("server.log")
        let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
        var arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", directory.path]
        if let tlsDays {
            let certificate = directory.file("cert.pem")
            let key = directory.file("key.pem")
            let made = ChildProcess.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                    "-days", "\(tlsDays)", "-subj", "/CN=localhost",
                ]
            )
            guard made == 0 else { throw HarnessError("openssl req failed") }
            let script = directory.file("https.py")
            try Data(Self.httpsScript.utf8).write(to: URL(fileURLWithPath: script))
            arguments = ["-u", script, certificate, key, directory.path]
        }
        child = try ChildProcess(
            path: python,
            arguments: arguments,
            stdoutPath: logPath,
            stderrPath: directory.file("server.err")
        )
        var found: Int?
        let deadline = Date().addingTimeInterval(10)
        while found == nil && Date() < deadline {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8),
                let range = text.range(of: " port "),
                let port = Int(text[range.upperBound...].prefix(while: \.isNumber))
            {
                found = port
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 5)
            throw HarnessError("python3 -m http.server did not start")
        }
        port = found
    }

    /// An HTTPS file server printing its port as `python3 -m http.server` does.
    private static let httpsScript = """
        import functools, http.server, ssl, sys
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print("Serving HTTPS on 127.0.0.1 port", server.server_address[1], flush=True)
        server.serve_forever()
        """

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() {
        child.signal(SIGTERM)
        if child.wait(timeout: 3) == nil {
            child.signal(SIGKILL)
            _ = child.wait(timeout: 3)
        }
        directory.remove()
    }
}
