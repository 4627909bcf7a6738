import Analysis
import Foundation
@testable import History
import XCTest

/// The run history: what goes in comes out, WAL with concurrent writers, and a file that is not a
/// usable history is reported and left byte for byte as it was.
final class HistoryStoreTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appending(path: "ab-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func entry(_ workload: String = "default", rating: String = "GOOD", commit: String? = "abc123") -> HistoryRun {
        HistoryRun(startedAt: "2026-11-30T10:00:00Z", host: "h", kernel: "6.1", commit: commit, workload: workload,
                   configDigest: "embedded", baseline: "monolithic", candidate: "microservices", rating: rating, exitCode: 0,
                   checksPassed: 20, checksTotal: 21, criticalRegressions: 0, resultsFile: "r.json", durationS: 60)
    }

    let p95 = SeriesKey(architecture: "microservices", benchmark: "api_response_times", metric: "latency_p95_ms")
    let users = SeriesKey(architecture: "microservices", benchmark: "api_response_times", metric: "latency_p95_ms",
                          endpoint: "GET /api/users")

    func testRunsAndSeriesComeBackInOrderPerWorkload() throws {
        let path = directory.appending(path: "sub/history.sqlite").path
        let store = try HistoryStore(path: path)
        let first = try store.record(entry(), metrics: [p95: 1.5, users: 2.0])
        let second = try store.record(entry("stress_test", rating: "POOR", commit: nil), metrics: [p95: 9.0])
        let third = try store.record(entry(), metrics: [p95: 1.7, users: .nan])
        XCTAssertEqual([first, second, third], [1, 2, 3])

        let runs = try HistoryStore(path: path).runs()
        XCTAssertEqual(runs.map(\.id), [1, 2, 3])
        XCTAssertEqual(runs[1].rating, "POOR")
        XCTAssertNil(runs[1].commit)
        XCTAssertEqual(runs[0].commit, "abc123")
        XCTAssertEqual(try store.runs(workload: "stress_test").map(\.id), [2])

        let series = try store.series(workload: "default")
        XCTAssertEqual(series[p95], [SeriesPoint(run: 1, value: 1.5), SeriesPoint(run: 3, value: 1.7)])
        XCTAssertEqual(series[users], [SeriesPoint(run: 1, value: 2.0)], "a NaN is not recorded")
        XCTAssertEqual(try store.series(workload: "stress_test")[p95], [SeriesPoint(run: 2, value: 9.0)])
    }

    func testTheDatabaseIsInWALModeWithItsMigrationsApplied() throws {
        let path = directory.appending(path: "history.sqlite").path
        _ = try HistoryStore(path: path)
        let mode = try sqlite(path, "PRAGMA journal_mode;")
        XCTAssertEqual(mode, "wal")
        XCTAssertEqual(try sqlite(path, "SELECT identifier FROM grdb_migrations;"), "v1: runs and their metrics")
    }

    func testConcurrentWritersLoseNothing() throws {
        let path = directory.appending(path: "history.sqlite").path
        let stores = [try HistoryStore(path: path), try HistoryStore(path: path)]
        let failures = LockedList()
        let (entry, key) = (entry(), p95)
        DispatchQueue.concurrentPerform(iterations: 4) { writer in
            for index in 0..<25 {
                do {
                    try stores[writer % 2].record(entry, metrics: [key: Double(writer * 100 + index)])
                } catch {
                    failures.append("\(error)")
                }
            }
        }
        XCTAssertEqual(failures.items, [])
        XCTAssertEqual(try HistoryStore(path: path).runs().count, 100)
        XCTAssertEqual(try HistoryStore(path: path).series(workload: "default")[p95]?.count, 100)
        XCTAssertEqual(try sqlite(path, "PRAGMA integrity_check;"), "ok")
    }

    /// Opening fails naming the problem, and the file is exactly as it was.
    func assertRefusedAndUntouched(_ path: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HistoryStore(path: path), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path), "names the file: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains(expected), "says what is wrong: \(text)", file: file, line: line)
            XCTAssertTrue(text.contains("left untouched"), text, file: file, line: line)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before, "the file was changed", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"), "a WAL file was made", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-shm"), "a shared-memory file was made", file: file, line: line)
    }

    func testAFileThatIsNotADatabaseIsReportedAndLeftUntouched() throws {
        let path = directory.appending(path: "history.sqlite").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        try assertRefusedAndUntouched(path, "not an SQLite database")
    }

    func testADamagedDatabaseIsReportedAndLeftUntouched() throws {
        let path = directory.appending(path: "history.sqlite").path
        let store = try HistoryStore(path: path)
        for index in 0..<200 { try store.record(entry(), metrics: [p95: Double(index), users: Double(index)]) }
        try sqlite(path, "PRAGMA wal_checkpoint(TRUNCATE);")
        // Overwrite the middle of the file (b-tree pages past the header) with garbage.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertGreaterThan(bytes.count, 4 * 4096)
        for offset in 2 * 4096..<(bytes.count - 4096) { bytes[offset] = UInt8(truncatingIfNeeded: offset &* 31) }
        try bytes.write(to: URL(fileURLWithPath: path))
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        try assertRefusedAndUntouched(path, "damaged")
    }

    func testSomeoneElsesDatabaseIsReportedAndLeftUntouched() throws {
        let path = directory.appending(path: "other.sqlite").path
        try sqlite(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);")
        try assertRefusedAndUntouched(path, "not an archbench history")
    }

    func testAHistoryFromANewerArchbenchIsReportedAndLeftUntouched() throws {
        let path = directory.appending(path: "history.sqlite").path
        try HistoryStore(path: path).record(entry(), metrics: [p95: 1])
        try sqlite(path, "INSERT INTO grdb_migrations VALUES ('v9: from the future'); PRAGMA wal_checkpoint(TRUNCATE);")
        try assertRefusedAndUntouched(path, "written by a newer archbench")
    }

    func testReadingOnlyWritesNothingAndNeedsTheFile() throws {
        let path = directory.appending(path: "history.sqlite").path
        XCTAssertThrowsError(try HistoryStore(path: path, readOnly: true)) { error in
            XCTAssertEqual((error as? HistoryError)?.exitCode, .usage, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "reading made the file")
        do {
            let store = try HistoryStore(path: path)
            try store.record(entry(), metrics: [p95: 1])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"), "the writer left its WAL behind")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            let reader = try HistoryStore(path: path, readOnly: true)
            XCTAssertEqual(try reader.runs().count, 1)
            XCTAssertThrowsError(try reader.record(entry(), metrics: [:]), "a read-only history took a write")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertEqual((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")))?.count ?? 0, 0, "the reader wrote to the WAL")
        XCTAssertEqual(try HistoryStore(path: path).record(entry(), metrics: [:]), 2, "a writer goes on after the reader")
    }

    func testADeletedRunTakesItsMetricsWithIt() throws {
        let path = directory.appending(path: "history.sqlite").path
        let store = try HistoryStore(path: path)
        let first = try store.record(entry(), metrics: [p95: 1, users: 2])
        let second = try store.record(entry(), metrics: [p95: 3])
        try store.delete(run: first)
        XCTAssertEqual(try store.runs().map(\.id), [second])
        XCTAssertEqual(try store.series(workload: "default"), [p95: [SeriesPoint(run: second, value: 3)]])
        XCTAssertEqual(try sqlite(path, "SELECT count(*) FROM metric;"), "1")
    }

    func testAnEmptyFileBecomesAHistory() throws {
        let path = directory.appending(path: "history.sqlite").path
        FileManager.default.createFile(atPath: path, contents: Data())
        try HistoryStore(path: path).record(entry(), metrics: [p95: 1])
        XCTAssertEqual(try HistoryStore(path: path).runs().count, 1)
    }

    /// The sqlite3 shell, an independent reader of the file.
    @discardableResult
    func sqlite(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") else {
            throw XCTSkip("the sqlite3 shell is not installed (Debian: sqlite3); make test installs it")
        }
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "sqlite3 \(sql)")
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    var items: [String] { lock.withLock { list } }
    func append(_ item: String) { lock.withLock { list.append(item) } }
}
