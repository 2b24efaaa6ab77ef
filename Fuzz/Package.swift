// swift-tools-version:6.2
import PackageDescription

// libFuzzer targets, in their own package so the main build never sees
// `-sanitize=fuzzer`. Build and run from the top with `make fuzz` (see SECURITY.md);
// by hand:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address --product FuzzLineProtocol
//   .build/debug/FuzzLineProtocol Corpus/line-protocol -max_total_time=600
let package = Package(
    name: "vigie-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "vigie", path: "..")
    ],
    targets: [
        .target(name: "CFuzzer"),
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
    ]
)
