import Analysis
import Recording

/// Outstanding allocations in Brendan Gregg's folded format (`comm;outer;…;inner bytes`), the input of
/// flamegraph.pl, inferno and speedscope: a flame graph of what is still allocated, by stack.
public enum FoldedStacks {
    /// One line per listed stack of each process, in the order given, each stack most bytes first;
    /// the estimated outstanding bytes are the value. Stacks beyond those listed are one
    /// `[N more stacks]` frame, so each process is as wide as everything it still holds.
    public static func text(_ processes: [(comm: String, allocations: AllocationRecord)]) -> String {
        var lines: [String] = []
        for (comm, record) in processes {
            let root = frame(comm)
            for stack in record.stacks where stack.estimatedBytes > 0 {
                let frames = stack.frames.isEmpty ? ["[stack not captured]"] : stack.frames.reversed().map(frame)
                lines.append(([root] + frames).joined(separator: ";") + " \(stack.estimatedBytes)")
            }
            let listed = record.stacks.reduce(UInt64(0)) { $0 &+ $1.estimatedBytes }
            if record.stacksNotShown > 0, record.estimatedBytes > listed {
                lines.append("\(root);[\(record.stacksNotShown) more stacks] \(record.estimatedBytes - listed)")
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// A frame as one field: `;` separates frames and the last space the value, and a line break
    /// would split the line, so those become `:` and spaces. The offset within a function is dropped
    /// (`malloc+0x1a (libc.so.6)` is `malloc (libc.so.6)`), so calls from two places in one function
    /// merge into one frame, as a flame graph reads; an address without a symbol stays as it is.
    static func frame(_ name: String) -> String {
        var text = name
        if let plus = text.range(of: "+0x"), let space = text[plus.upperBound...].firstIndex(of: " "),
           text[plus.upperBound..<space].allSatisfy(\.isHexDigit), plus.lowerBound > text.startIndex {
            text.removeSubrange(plus.lowerBound..<space)
        }
        return String(text.map { character -> Character in
            if character == ";" { return ":" }
            return character.isNewline ? " " : character
        })
    }
}

extension ProbeReport {
    /// The folded stacks of the processes whose allocations were traced.
    public func foldedStacks() -> String {
        FoldedStacks.text(processes.compactMap { process in process.allocations.map { (process.comm, $0) } })
    }
}

extension LeakHuntReport {
    public func foldedStacks() -> String {
        FoldedStacks.text(processes.compactMap { process in process.allocations.map { (process.comm, $0) } })
    }
}
