extension Array {
    /// The `limit` elements with the largest `length`, in their order here; of equal lengths the
    /// earlier is kept. What a bounded list (a trace track, a results file) keeps of a long one.
    public func longest(_ limit: Int, by length: (Element) -> UInt64) -> [Element] {
        guard count > limit else { return self }
        let order = indices.sorted { length(self[$0]) != length(self[$1]) ? length(self[$0]) > length(self[$1]) : $0 < $1 }
        return order.prefix(Swift.max(limit, 0)).sorted().map { self[$0] }
    }
}
