import Foundation
import Load

extension LoadResult {
    /// The DESIGN.md JSON. `slowRequestLimit` keeps the slowest that many slow requests (the report
    /// says how many there were); the library keeps them all for the analysis.
    public func json(slowRequestLimit: Int = 1000) throws -> String {
        var shown = self
        if slowRequests.count > slowRequestLimit {
            shown.slowRequests = Array(slowRequests.sorted { $0.endNs - $0.intendedNs > $1.endNs - $1.intendedNs }
                .prefix(slowRequestLimit))
        }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var text = String(decoding: try encoder.encode(shown), as: UTF8.self)
        if shown.slowRequests.count < slowRequests.count {
            // Say so in the document itself, as a key the shape allows.
            text = text.replacingOccurrences(
                of: "\n  \"slow_requests\" :",
                with: "\n  \"slow_requests_total\" : \(slowRequests.count),\n  \"slow_requests\" :")
        }
        return text
    }
}
