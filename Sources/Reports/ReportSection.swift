/// A section a user adds to the reports (the custom-report hook): a titled table computed from the
/// results. Its cells are plain text, escaped wherever they are shown, so a section cannot inject
/// markup or script into a report.
public protocol ReportSection: Sendable {
    var title: String { get }
    /// The header row, then the rows.
    func table(_ results: SuiteResults) throws -> (header: [String], rows: [[String]])
}

/// A section as computed for one results file: its table, or why it could not be computed.
public struct RenderedSection: Sendable, Equatable {
    public var title: String
    public var header: [String]
    public var rows: [[String]]
    public var error: String?

    public init(title: String, header: [String], rows: [[String]], error: String? = nil) {
        self.title = title
        self.header = header
        self.rows = rows
        self.error = error
    }

    /// Computes `section` over `results`; a section that throws is kept, with its error, rather than
    /// failing the reports.
    public init(_ section: any ReportSection, results: SuiteResults) {
        do {
            let table = try section.table(results)
            self.init(title: section.title, header: table.header, rows: table.rows)
        } catch {
            self.init(title: section.title, header: [], rows: [], error: "\(error)")
        }
    }
}
