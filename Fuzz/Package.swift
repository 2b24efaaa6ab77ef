// swift-tools-version:6.2
import PackageDescription

// libFuzzer targets, in their own package so the main build never sees
// `-sanitize=fuzzer`. Build and run from the top with `make fuzz` (see SECURITY.md), which
// builds every target in one `swift build` and runs each on its corpus (Corpus/<name>);
// by hand:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address --product FuzzLineProtocol
//   SWIFT_BACKTRACE=enable=no .build/debug/FuzzLineProtocol Corpus/line-protocol -max_total_time=600
//
// What faces the outside, one target each: FuzzLineProtocol (ingest payloads), FuzzVGI1
// (ingest requests), FuzzControl (control requests), FuzzWAL (write-ahead log segments,
// recovery and replay), FuzzCheckpoint (checkpoint files and the state they restore),
// FuzzCSV (the agent's CSV mapping and the line protocol it makes), FuzzCertificate (zcert
// CURVE certificates, Z85 keys), FuzzConfig (daemon and agent TOML configuration).
// FuzzSupport holds what several share: the daemon's recovery state (`DaemonModel`) and
// scratch directories. FuzzWAL and FuzzCheckpoint generate their seeds with the real
// writers: `VIGIE_FUZZ_WRITE_SEEDS=DIR .build/debug/FuzzWAL`. CFuzzer declares libFuzzer's
// driver and suppresses the leaks of dependencies (TOMLKit, Foundation).
let package = Package(
    name: "vigie-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "vigie", path: "..")
    ],
    targets: [
        .target(name: "CFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "VigieCore", package: "vigie"), .product(name: "VigieStore", package: "vigie"),
                .product(name: "VigieConfig", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzLineProtocol",
            dependencies: ["CFuzzer", .product(name: "VigieCore", package: "vigie")]
        ),
        .executableTarget(
            name: "FuzzVGI1",
            dependencies: ["CFuzzer", .product(name: "VigieCore", package: "vigie")]
        ),
        .executableTarget(
            name: "FuzzControl",
            dependencies: [
                "CFuzzer", .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieStore", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzWAL",
            dependencies: [
                "CFuzzer", "FuzzSupport", .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieStore", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzCheckpoint",
            dependencies: [
                "CFuzzer", "FuzzSupport", .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieStore", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzCSV",
            dependencies: [
                "CFuzzer", .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieConfig", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzCertificate",
            dependencies: [
                "CFuzzer", "FuzzSupport", .product(name: "VigieConfig", package: "vigie"),
                .product(name: "ZeroMQ", package: "vigie"),
            ]
        ),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [
                "CFuzzer", .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieConfig", package: "vigie"),
            ]
        ),
    ]
)
