import ArchbenchCore
import Foundation
import Recording

extension LoadResult {
    /// The `load --json` document. `slowRequestLimit` keeps the slowest that many slow requests, and
    /// the document then says how many there were (`slow_requests_total`); the library keeps them all
    /// for the analysis.
    public func json(slowRequestLimit: Int = 1000) throws -> String {
        var shown = self
        if slowRequests.count > slowRequestLimit {
            shown.slowRequests = Array(slowRequests.sorted { $0.endNs - $0.intendedNs > $1.endNs - $1.intendedNs }
                .prefix(slowRequestLimit))
        }
        let total = shown.slowRequests.count < slowRequests.count ? slowRequests.count : nil
        return try JSONCoding.string(Shown(result: shown, slowRequestsTotal: total))
    }
}

/// A load result with the count of slow requests it leaves out, when it leaves some out.
private struct Shown: Encodable {
    let result: LoadResult
    let slowRequestsTotal: Int?

    enum CodingKeys: String, CodingKey {
        case slowRequestsTotal
    }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(slowRequestsTotal, forKey: .slowRequestsTotal)
    }
}
