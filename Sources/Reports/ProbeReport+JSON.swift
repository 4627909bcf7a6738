import Analysis
import ArchbenchCore

extension ProbeReport {
    /// The `probe --json` document.
    public func json() throws -> String {
        try JSONCoding.string(self)
    }
}
