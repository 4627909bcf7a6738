extension Statistics {
    /// Ranks 1…n of `values` in input order, tied values sharing the mean of the ranks they span
    /// (scipy.stats.rankdata(values, method='average')): [10, 20, 10] → [1.5, 3, 1.5]. O(n log n).
    /// `values` must not hold a NaN (it has no place in the order).
    public static func ranks(_ values: [Double]) -> [Double] {
        var ranks = [Double](repeating: 0, count: values.count)
        forEachTieGroup(values) { indices, firstRank in
            // Ranks firstRank … firstRank + t − 1; their mean:
            let rank = Double(firstRank) + Double(indices.count - 1) / 2
            for index in indices { ranks[index] = rank }
        }
        return ranks
    }

    /// The sizes t of the groups of equal values with more than one member, in ascending order of
    /// the value: [10, 20, 10, 30, 20, 10] → [3, 2].
    public static func tieGroupSizes(_ values: [Double]) -> [Int] {
        var sizes: [Int] = []
        forEachTieGroup(values) { indices, _ in
            if indices.count > 1 { sizes.append(indices.count) }
        }
        return sizes
    }

    /// Σ (t³ − t) over the tie groups: how much ties shrink a rank sum's variance.
    static func tieTerm(_ values: [Double]) -> Double {
        tieGroupSizes(values).reduce(0) { sum, t in
            let t = Double(t)
            return sum + (t * t * t - t)
        }
    }

    /// Calls `body` for each group of equal values in ascending order, with the group's indices into
    /// `values` and the 1-based rank of its first member in the sorted order.
    static func forEachTieGroup(_ values: [Double], _ body: (ArraySlice<Int>, Int) -> Void) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            body(order[start..<end], start + 1)
            start = end
        }
    }
}
