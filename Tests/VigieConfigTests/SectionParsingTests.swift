import Testing
import VigieConfig
import VigieCore

@Suite("[daemon], [endpoints], [ingest]")
struct SectionParsingTests {
    @Test func emptyFileGivesDefaults() throws {
        let config = try ConfigLoader.parse("")
        #expect(config == VigieConfiguration())
        #expect(config.daemon.timezone == "UTC")
        #expect(config.daemon.stateDir == "/var/lib/vigie")
        #expect(config.daemon.runtimeDir == "/run/vigie")
        #expect(config.daemon.publishInterval == 1_000_000_000)
        #expect(config.daemon.heartbeatInterval == 1_000_000_000)
        #expect(config.daemon.fsync == .batch)
        #expect(config.daemon.fsyncInterval == 5_000_000)
        #expect(config.daemon.checkpointInterval == 300_000_000_000)
        #expect(config.endpoints.ingest == ["tcp://127.0.0.1:7600"])
        #expect(config.endpoints.push == ["tcp://127.0.0.1:7601"])
        #expect(config.endpoints.feed == ["tcp://127.0.0.1:7602"])
        #expect(config.endpoints.control == ["tcp://127.0.0.1:7603"])
        #expect(config.ingest.maxAge == 400 * 86_400 * 1_000_000_000)
        #expect(config.ingest.maxFuture == 600 * 1_000_000_000)
        #expect(config.ingest.maxMessageSize == 16 << 20)
        #expect(config.sourcePath == nil)
    }

    @Test func daemonTable() throws {
        let config = try ConfigLoader.parse(
            """
            [daemon]
            timezone = "Europe/Paris"
            state_dir = "/srv/vigie"
            runtime_dir = "/tmp/vigie-run"
            publish_interval = "0s"
            heartbeat_interval = "500ms"
            fsync = "always"
            fsync_interval = "2ms"
            checkpoint_interval = "1m"
            checkpoint_wal_bytes = 67108864
            """
        )
        #expect(
            config.daemon
                == DaemonConfiguration(
                    timezone: "Europe/Paris",
                    stateDir: "/srv/vigie",
                    publishInterval: 0,
                    heartbeatInterval: 500_000_000,
                    runtimeDir: "/tmp/vigie-run",
                    fsync: .always,
                    fsyncInterval: 2_000_000,
                    checkpointInterval: 60_000_000_000,
                    checkpointWALBytes: 64 << 20
                )
        )
        #expect(config.daemon.timeZone.identifier == "Europe/Paris")
    }

    @Test func feedQueueAndControlRequestLimits() throws {
        let config = try ConfigLoader.parse("[endpoints]\nfeed_hwm = 500\ncontrol_max_request = 65536\n")
        #expect(config.endpoints.feedHighWaterMark == 500)
        #expect(config.endpoints.controlMaxRequest == 65_536)
        #expect(VigieConfiguration().endpoints.feedHighWaterMark == 10_000)
        #expect(VigieConfiguration().endpoints.controlMaxRequest == 1 << 20)
        let errors = configErrors("[endpoints]\nfeed_hwm = 0\ncontrol_max_request = 10\n")
        #expect(errors.map(\.line) == [2, 3])
    }

    @Test func endpointForms() throws {
        let config = try ConfigLoader.parse(
            """
            [endpoints]
            ingest = ["tcp://127.0.0.1:7600", "tcp://*:17600", "tcp://[::1]:7600"]
            push = []
            feed = "tcp://localhost:*"
            control = ["ipc:///run/vigie/control.sock", "inproc://control"]
            """
        )
        #expect(config.endpoints.ingest == ["tcp://127.0.0.1:7600", "tcp://*:17600", "tcp://[::1]:7600"])
        #expect(config.endpoints.push.isEmpty)
        #expect(config.endpoints.feed == ["tcp://localhost:*"])
        #expect(config.endpoints.control == ["ipc:///run/vigie/control.sock", "inproc://control"])
        #expect(config.endpoints.all.count == 6)
    }

    @Test func ingestTable() throws {
        let config = try ConfigLoader.parse(
            """
            [ingest]
            max_age = "30d"
            max_future = "1m"
            max_line_length = 4096
            max_tags = 8
            max_fields = 16
            max_name_length = 64
            max_lines_per_batch = 5000
            max_message_size = 1048576
            max_series_per_kpi = 200
            max_producers = 50
            """
        )
        let day: Int64 = 86_400_000_000_000
        #expect(
            config.ingest
                == IngestConfiguration(
                    maxAge: 30 * day,
                    maxFuture: 60_000_000_000,
                    maxLineLength: 4_096,
                    maxTags: 8,
                    maxFields: 16,
                    maxNameLength: 64,
                    maxLinesPerBatch: 5_000,
                    maxMessageSize: 1 << 20,
                    maxSeriesPerKPI: 200,
                    maxProducers: 50
                )
        )
        #expect(
            config.ingest.lineProtocolLimits
                == LineProtocolLimits(maxLineLength: 4_096, maxTags: 8, maxFields: 16, maxNameLength: 64)
        )
    }

    @Test func securityWithoutCurveNeedsNoKeys() throws {
        let config = try ConfigLoader.parse(
            """
            [security]
            curve = false
            [http]
            listen = "127.0.0.1:9090"
            """
        )
        #expect(config.security.curve == false)
        #expect(config.security.serverCertificate == nil)
        #expect(config.http.listen == HostPort(host: "127.0.0.1", port: 9_090))
    }

    @Test(arguments: [
        ("127.0.0.1:9464", HostPort(host: "127.0.0.1", port: 9_464)),
        ("[::1]:9464", HostPort(host: "::1", port: 9_464)),
        ("localhost:0", HostPort(host: "localhost", port: 0)),
    ])
    func httpListenParses(text: String, expected: HostPort) throws {
        let config = try ConfigLoader.parse("[http]\nlisten = \"\(text)\"")
        #expect(config.http.listen == expected)
        #expect(config.http.listen?.description == text)
    }

    @Test(arguments: ["9464", "127.0.0.1:", "127.0.0.1:70000", "::1:9464", ":9464"])
    func badHTTPListenIsReportedWithItsLine(text: String) {
        let errors = configErrors("[http]\nlisten = \"\(text)\"")
        #expect(errors.count == 1)
        #expect(errors.first?.line == 2)
        #expect(errors.first?.key == "http.listen")
        #expect(errors.first?.message == "\"\(text)\" is not host:port")
    }
}
