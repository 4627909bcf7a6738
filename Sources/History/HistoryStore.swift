import Analysis
import ArchbenchCore
import Foundation
import GRDB

/// One run as the history remembers it.
public struct HistoryRun: Codable, Sendable, Equatable {
    /// Assigned by the history.
    public var id: Int64?
    /// ISO 8601, UTC.
    public var startedAt: String
    public var host: String
    public var kernel: String
    /// The git commit of the working directory (or the CI's), if any.
    public var commit: String?
    public var workload: String
    /// FNV-1a of the config file's bytes, or `embedded` for the built-in default.
    public var configDigest: String
    public var baseline: String
    public var candidate: String
    public var rating: String
    public var exitCode: Int32
    public var checksPassed: Int
    public var checksTotal: Int
    public var criticalRegressions: Int
    public var resultsFile: String
    public var durationS: Double

    public init(id: Int64? = nil, startedAt: String, host: String, kernel: String, commit: String?, workload: String,
                configDigest: String, baseline: String, candidate: String, rating: String, exitCode: Int32, checksPassed: Int,
                checksTotal: Int, criticalRegressions: Int, resultsFile: String, durationS: Double) {
        self.id = id
        self.startedAt = startedAt
        self.host = host
        self.kernel = kernel
        self.commit = commit
        self.workload = workload
        self.configDigest = configDigest
        self.baseline = baseline
        self.candidate = candidate
        self.rating = rating
        self.exitCode = exitCode
        self.checksPassed = checksPassed
        self.checksTotal = checksTotal
        self.criticalRegressions = criticalRegressions
        self.resultsFile = resultsFile
        self.durationS = durationS
    }
}

/// Why the history cannot be used. Each names the file; none of them touched it.
public struct HistoryError: ArchbenchFailure, Sendable {
    public var path: String
    public var message: String
    /// 2 for a history that is not there or a series that is not in it, 3 for one that cannot be used.
    public var exitCode: ArchbenchExitCode = .environment

    public var description: String { "run history \(path): \(message)" }
}

/// The run history: an SQLite database (WAL, so readers never wait for the writer and two runs
/// writing at once take turns) with every run and each of its metrics per architecture and benchmark.
///
/// An existing file is checked read-only before anything is written to it: a file that is not an
/// SQLite database, fails SQLite's integrity check, holds other tables than a history's, or was
/// migrated by a newer archbench is reported and left as it is — never recreated.
public final class HistoryStore: Sendable {
    public let path: String
    let pool: any DatabaseWriter

    /// How long a writer waits for another run's transaction before giving up.
    static let busyTimeout: TimeInterval = 30

    /// Opens the history at `path`, creating it if missing. `readOnly` opens an existing one only,
    /// and writes nothing to it (`archbench history`); SQLite may leave the -wal and -shm files a
    /// WAL database's readers share, which the next writer uses — they are not removed, as a run
    /// writing at the same time may hold them.
    public init(path: String, readOnly: Bool = false) throws(HistoryError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if readOnly, !exists {
            throw HistoryError(path: path, message: "no such file (archbench run records its history there; --history names another)",
                               exitCode: .usage)
        }
        if exists { try Self.inspect(path) }
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(Self.busyTimeout)
            if readOnly {
                configuration.readonly = true
                pool = try DatabaseQueue(path: path, configuration: configuration)
            } else {
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
                pool = try DatabasePool(path: path, configuration: configuration)
                try Self.migrator.migrate(pool)
            }
        } catch {
            throw HistoryError(path: path, message: Self.explain(error))
        }
    }

    /// The schema, one migration per change; a database is brought up to date when opened.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs and their metrics") { db in
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("started_at", .text).notNull()
                table.column("host", .text).notNull()
                table.column("kernel", .text).notNull()
                table.column("git_commit", .text)
                table.column("workload", .text).notNull()
                table.column("config_digest", .text).notNull()
                table.column("baseline", .text).notNull()
                table.column("candidate", .text).notNull()
                table.column("rating", .text).notNull()
                table.column("exit_code", .integer).notNull()
                table.column("checks_passed", .integer).notNull()
                table.column("checks_total", .integer).notNull()
                table.column("critical_regressions", .integer).notNull()
                table.column("results_file", .text).notNull()
                table.column("duration_s", .double).notNull()
            }
            try db.create(table: "metric") { table in
                table.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
                table.column("architecture", .text).notNull()
                table.column("benchmark", .text).notNull()
                table.column("metric", .text).notNull()
                table.column("endpoint", .text).notNull().defaults(to: "")
                table.column("value", .double).notNull()
                table.primaryKey(["run_id", "architecture", "benchmark", "metric", "endpoint"])
            }
            try db.create(index: "metric_series", on: "metric", columns: ["architecture", "benchmark", "metric", "endpoint"])
        }
        return migrator
    }

    /// Reads an existing file without writing to it: an SQLite database that passes its quick
    /// check and is a history (or empty) of a schema this archbench knows.
    static func inspect(_ path: String) throws(HistoryError) {
        // SQLite makes the -wal and -shm side files of a WAL database even to read it: a refused
        // file is left with only what it had.
        let sideFiles = [path + "-wal", path + "-shm"].filter { !FileManager.default.fileExists(atPath: $0) }
        do {
            try check(path)
        } catch {
            for file in sideFiles { try? FileManager.default.removeItem(atPath: file) }
            throw error
        }
    }

    static func check(_ path: String) throws(HistoryError) {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(busyTimeout)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            try queue.read { db in
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else {
                    throw HistoryError(path: path, message: "the database is damaged (SQLite's quick_check: \(check.prefix(3).joined(separator: "; ")));"
                        + " left untouched: repair or move it, or give another --history")
                }
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                if !tables.isEmpty, !tables.contains("grdb_migrations") {
                    throw HistoryError(path: path, message: "an SQLite database but not an archbench history (tables: "
                        + "\(tables.prefix(5).joined(separator: ", "))); left untouched: give another --history")
                }
                if tables.contains("grdb_migrations"), try migrator.hasBeenSuperseded(db) {
                    throw HistoryError(path: path, message: "written by a newer archbench (its schema has migrations this one does not know);"
                        + " left untouched")
                }
            }
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError(path: path, message: explain(error))
        }
    }

    static func explain(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return "not an SQLite database (or damaged beyond SQLite's reading); left untouched: repair or move it, or give another --history"
        case .SQLITE_CORRUPT:
            return "the database is damaged (\(error.message ?? "corrupt")); left untouched: repair or move it, or give another --history"
        case .SQLITE_BUSY:
            return "another run held the database for more than \(Int(busyTimeout)) s"
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
            return "cannot open it for writing (\(error.message ?? "\(error.resultCode)"))"
        default:
            return error.message ?? "\(error)"
        }
    }

    /// Adds a run and its metrics in one transaction; returns the run's id.
    @discardableResult
    public func record(_ run: HistoryRun, metrics: [SeriesKey: Double]) throws(HistoryError) -> Int64 {
        do {
            return try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO run (started_at, host, kernel, git_commit, workload, config_digest, baseline, candidate, rating,
                                     exit_code, checks_passed, checks_total, critical_regressions, results_file, duration_s)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [run.startedAt, run.host, run.kernel, run.commit, run.workload, run.configDigest, run.baseline,
                                     run.candidate, run.rating, run.exitCode, run.checksPassed, run.checksTotal,
                                     run.criticalRegressions, run.resultsFile, run.durationS])
                let id = db.lastInsertedRowID
                for (key, value) in metrics where value.isFinite {
                    try db.execute(sql: "INSERT INTO metric (run_id, architecture, benchmark, metric, endpoint, value) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [id, key.architecture, key.benchmark, key.metric, key.endpoint, value])
                }
                return id
            }
        } catch {
            throw HistoryError(path: path, message: Self.explain(error))
        }
    }

    /// Takes a run and its metrics out again (its results file could not be written).
    public func delete(run id: Int64) throws(HistoryError) {
        do {
            try pool.write { db in try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id]) }
        } catch {
            throw HistoryError(path: path, message: Self.explain(error))
        }
    }

    /// The runs, oldest first; of one workload when given.
    public func runs(workload: String? = nil) throws(HistoryError) -> [HistoryRun] {
        do {
            return try pool.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM run WHERE ?1 IS NULL OR workload = ?1 ORDER BY id",
                                            arguments: [workload])
                return rows.map { row in
                    HistoryRun(id: row["id"], startedAt: row["started_at"], host: row["host"], kernel: row["kernel"],
                               commit: row["git_commit"], workload: row["workload"], configDigest: row["config_digest"],
                               baseline: row["baseline"], candidate: row["candidate"], rating: row["rating"],
                               exitCode: row["exit_code"], checksPassed: row["checks_passed"], checksTotal: row["checks_total"],
                               criticalRegressions: row["critical_regressions"], resultsFile: row["results_file"],
                               durationS: row["duration_s"])
                }
            }
        } catch {
            throw HistoryError(path: path, message: Self.explain(error))
        }
    }

    /// Every series of `workload`'s runs, each oldest first.
    public func series(workload: String) throws(HistoryError) -> [SeriesKey: [SeriesPoint]] {
        do {
            return try pool.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT metric.* FROM metric JOIN run ON run.id = metric.run_id
                    WHERE run.workload = ? ORDER BY metric.run_id
                    """, arguments: [workload])
                var series: [SeriesKey: [SeriesPoint]] = [:]
                for row in rows {
                    let key = SeriesKey(architecture: row["architecture"], benchmark: row["benchmark"], metric: row["metric"],
                                        endpoint: row["endpoint"])
                    series[key, default: []].append(SeriesPoint(run: row["run_id"], value: row["value"]))
                }
                return series
            }
        } catch {
            throw HistoryError(path: path, message: Self.explain(error))
        }
    }
}
