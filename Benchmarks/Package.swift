// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so the main build stays lean.
// Run from this directory: `swift package benchmark` (or `make bench` at the top).
let package = Package(
    name: "vigie-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "vigie", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: [
                .product(name: "VigieCore", package: "vigie"),
                .product(name: "VigieStore", package: "vigie"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/IngestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
