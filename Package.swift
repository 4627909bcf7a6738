// swift-tools-version: 6.1
import PackageDescription

// libbpf and its dependencies (Debian: libbpf-dev, libelf-dev, zlib1g-dev).
let linkLibbpf: [LinkerSetting] = [.linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z")]

let package = Package(
    name: "archbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "archbench", targets: ["archbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        // The run history: SQLite (Debian: libsqlite3-dev) with migrations and WAL.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C that the other C targets, the BPF programs and Swift share: the clock, the histogram bucketing.
        // -O2 like CLoadGen: the load generator reads the clock several times per request.
        .target(name: "CCommon", path: "CSources/CCommon", cSettings: [.unsafeFlags(["-O2"])]),
        // C: the libbpf loader and the pre-exec spawn; the only code that talks to the kernel directly.
        .target(name: "CProbe", dependencies: ["CCommon"], path: "CSources/CProbe", linkerSettings: linkLibbpf),
        .target(name: "CProcess", path: "CSources/CProcess"),
        // cairo (Debian: libcairo2-dev) for the latency heatmap PNG.
        .systemLibrary(name: "CCairo", path: "CSources/CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // The load generator's hot path. http_parser (libhttp-parser-dev) parses responses, libmd
        // (libmd-dev) gives SHA-1 for the WebSocket handshake.
        .target(
            name: "CLoadGen", dependencies: ["CCommon"], path: "CSources/CLoadGen",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("http_parser"), .linkedLibrary("md"), .linkedLibrary("pthread"), .linkedLibrary("m")]
        ),

        // Builds bpf/*.bpf.c into objects embedded in the Probes module.
        .plugin(name: "BPFEmbed", capability: .buildTool(), path: "Plugins/BPFEmbed"),
        // Embeds Debian's Chart.js in the Reports module, for self-contained HTML reports.
        .plugin(name: "ChartEmbed", capability: .buildTool(), path: "Plugins/ChartEmbed"),

        // Swift libraries, split by concern, in pipeline order: each depends only on those above it.
        // The /proc reader, exit codes, signals, the stop flag, JSON coding, config.
        .target(name: "ArchbenchCore", dependencies: ["CCommon", "CProcess"]),
        // What was recorded, as plain Swift records (kernel and client); no C, no interpretation.
        .target(name: "Recording"),
        // Record: the probes (one file per bpf/ family) and the load generator.
        .target(
            name: "Probes",
            dependencies: ["ArchbenchCore", "Recording", "CProbe", "CProcess"],
            plugins: ["BPFEmbed"]
        ),
        .target(name: "Load", dependencies: ["ArchbenchCore", "Recording", "CLoadGen"]),
        // Analyse: pure Swift over the recordings (pauses, GC policy, syscall classes); testable without root.
        .target(name: "Analysis", dependencies: ["ArchbenchCore", "Recording"]),
        // Remember: every run's metrics in an SQLite database, read back as series for the regression detection.
        .target(
            name: "History",
            dependencies: ["ArchbenchCore", "Analysis", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Report: one file per output format over the analysis's models.
        .target(
            name: "Reports", dependencies: ["ArchbenchCore", "Recording", "Load", "Analysis", "History", "CCairo"],
            plugins: ["ChartEmbed"]
        ),
        // Orchestrate: config and targets, then record → analyse → report (archbench probe, archbench run).
        .target(name: "Suite", dependencies: ["ArchbenchCore", "Recording", "Probes", "Load", "Analysis", "Reports", "History"]),
        // The embedded reference backends (`archbench serve`): a monolith and its microservices split.
        .target(
            name: "Backends",
            dependencies: [
                "ArchbenchCore", "CProcess",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        // The thin command line.
        .executableTarget(
            name: "archbench",
            dependencies: [
                "ArchbenchCore", "Probes", "Load", "Reports", "Suite", "Backends", "History",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Tests, and a tiny C program with known syscall behaviour that they drive.
        // Frame pointers: the allocation tests walk its stacks from the kernel.
        .executableTarget(
            name: "ab-testhelper", path: "Tests/Helpers/ab-testhelper",
            cSettings: [.unsafeFlags(["-fno-omit-frame-pointer"])]
        ),
        .executableTarget(
            name: "ab-testserver", path: "Tests/Helpers/ab-testserver",
            linkerSettings: [.linkedLibrary("md"), .linkedLibrary("pthread")]
        ),
        // Stops its worker threads on a known schedule: the truth for the pause detector.
        .executableTarget(
            name: "ab-pausehelper", path: "Tests/Helpers/ab-pausehelper",
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        // Times the suite's analysis over a large synthetic recording (bench/analysis-speed.sh).
        .executableTarget(name: "ab-analysis-bench", dependencies: ["Analysis", "Recording", "ArchbenchCore"], path: "Tests/Helpers/ab-analysis-bench"),
        .target(name: "TestSupport", dependencies: ["ArchbenchCore"], path: "Tests/TestSupport"),
        .testTarget(name: "ArchbenchCoreTests", dependencies: ["ArchbenchCore", "TestSupport"]),
        .testTarget(
            name: "ProbesTests",
            dependencies: ["ArchbenchCore", "Probes", "Recording", "CProbe", "Load", "Analysis", "TestSupport", "ab-testhelper", "ab-testserver", "ab-pausehelper"]
        ),
        .testTarget(
            name: "LoadTests",
            dependencies: ["Load", "Recording", "CLoadGen", "TestSupport", "ab-testserver"]
        ),
        .testTarget(name: "BackendsTests", dependencies: ["Backends", "ArchbenchCore", "TestSupport", "archbench"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Recording", "Load", "Analysis", "History", "CCairo", "TestSupport"]),
        .testTarget(name: "HistoryTests", dependencies: ["History", "Analysis", "TestSupport"]),
        .testTarget(name: "SuiteTests", dependencies: ["Suite", "Load", "CLoadGen", "Recording", "Analysis", "History", "Backends", "TestSupport", "archbench"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "ArchbenchCore", "Recording", "TestSupport", "ab-pausehelper"]),
        .testTarget(
            name: "CLITests",
            dependencies: ["Suite", "TestSupport", "archbench", "ab-testhelper", "ab-testserver"]
        ),
    ]
)
