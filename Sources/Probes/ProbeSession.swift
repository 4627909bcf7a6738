#if canImport(Glibc)
import Glibc
#endif
import CProbe

/// Owns one `struct ab_probe` (CSources/CProbe): the loaded probe families and their links. Every C
/// call goes through `check`, which turns -errno into a thrown `ProbeError`. Not thread-safe: one
/// session is driven from one thread.
final class ProbeSession {
    private let handle: OpaquePointer
    /// Object bytes handed to libbpf, which reads them until the session is closed.
    private var objectBuffers: [UnsafeMutableRawBufferPointer] = []

    init() throws(ProbeError) {
        guard let handle = ab_probe__new() else {
            throw .libbpf(operation: "allocating the probe session", errno: errno, log: "")
        }
        self.handle = handle
    }

    deinit {
        ab_probe__destroy(handle)
        objectBuffers.forEach { $0.deallocate() }
    }

    func addFamily(_ family: ProbeFamily, btfPath: String?) throws(ProbeError) {
        let bytes = family.objectBytes
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        buffer.copyBytes(from: bytes)
        objectBuffers.append(buffer)
        try check(ab_probe__add_family(handle, family.rawValue, buffer.baseAddress, buffer.count, btfPath),
                  "opening probe family \(family.rawValue)")
    }

    func load() throws(ProbeError) {
        try check(ab_probe__load(handle), "loading the probes into the kernel")
    }

    func attach() throws(ProbeError) {
        try check(ab_probe__attach(handle), "attaching the probes")
    }

    func detach() {
        ab_probe__detach(handle)
    }

    func attachUSDT(program: String, pid: Int32, binary: String, provider: String, name: String) throws(ProbeError) {
        try check(ab_probe__attach_usdt(handle, program, pid, binary, provider, name),
                  "attaching \(provider):\(name) in \(binary) for pid \(pid)")
    }

    func attachUprobe(program: String, pid: Int32, binary: String, function: String, offset: Int = 0,
                      returning: Bool) throws(ProbeError) {
        try check(ab_probe__attach_uprobe(handle, program, pid, binary, function, offset, returning ? 1 : 0),
                  "attaching \(program) to \(function)+\(offset) in \(binary) for pid \(pid)")
    }

    /// A map's size before load; for a ring buffer, its bytes.
    func setMapSize(_ map: String, _ entries: UInt32) throws(ProbeError) {
        try check(ab_probe__set_map_size(handle, map, entries), "sizing map \(map) to \(entries)")
    }

    func setTunable<Value: BitwiseCopyable>(_ family: ProbeFamily, _ variable: String, _ value: Value) throws(ProbeError) {
        var value = value
        let rc = withUnsafeBytes(of: &value) { bytes in
            ab_probe__set_rodata(handle, family.rawValue, variable, bytes.baseAddress, bytes.count)
        }
        try check(rc, "setting \(family.rawValue).\(variable)")
    }

    /// Starts gathering a ring buffer map's records of type `Record`.
    func collect<Record: BitwiseCopyable>(_ map: String, as: Record.Type) throws(ProbeError) {
        try check(ab_probe__collect(handle, map, MemoryLayout<Record>.size), "reading ring buffer \(map)")
    }

    /// Moves what the kernel wrote into the ring buffers to the gathered records, without blocking.
    func poll() throws(ProbeError) {
        try check(ab_probe__poll(handle), "polling the ring buffers")
    }

    /// Takes every gathered record of a ring buffer map.
    func take<Record: BitwiseCopyable>(_ map: String, as: Record.Type) throws(ProbeError) -> [Record] {
        var records: [Record] = []
        let batch = 4096
        while true {
            let chunk = [Record](unsafeUninitializedCapacity: batch) { buffer, count in
                count = max(0, ab_probe__take(handle, map, buffer.baseAddress, batch))
            }
            records += chunk
            if chunk.count < batch { return records }
        }
    }

    func droppedRecords(_ map: String) -> UInt64 {
        ab_probe__collect_dropped(handle, map)
    }

    func update<Key: BitwiseCopyable, Value: BitwiseCopyable>(map: String, key: Key, value: Value) throws(ProbeError) {
        try checkLayout(map: map, key: Key.self, value: Value.self)
        var key = key
        var value = value
        let rc = withUnsafeBytes(of: &key) { keyBytes in
            withUnsafeBytes(of: &value) { valueBytes in
                ab_probe__map_update(handle, map, keyBytes.baseAddress, valueBytes.baseAddress)
            }
        }
        try check(rc, "updating map \(map)")
    }

    /// Every entry of a map whose values are plain `Value`s.
    func entries<Key: BitwiseCopyable, Value: BitwiseCopyable>(of map: String, key: Key.Type, value: Value.Type) throws(ProbeError)
        -> [(key: Key, value: Value)]
    {
        try checkLayout(map: map, key: Key.self, value: Value.self)
        return try rawEntries(of: map).map { entry in
            (entry.key.loadUnaligned(as: Key.self), entry.value.loadUnaligned(as: Value.self))
        }
    }

    /// Every entry of a per-CPU map, each with one value per possible CPU.
    func perCPUEntries<Key: BitwiseCopyable, Value: BitwiseCopyable>(of map: String, key: Key.Type, value: Value.Type)
        throws(ProbeError) -> [(key: Key, values: [Value])]
    {
        let sizes = try mapSizes(map)
        let slot = (MemoryLayout<Value>.size + 7) & ~7
        guard sizes.key == MemoryLayout<Key>.size, slot > 0, sizes.value % slot == 0 else {
            throw .layoutMismatch(map: map, detail: "key \(sizes.key) bytes, value \(sizes.value) bytes per lookup")
        }
        return try rawEntries(of: map).map { entry in
            let values = stride(from: 0, to: entry.value.count, by: slot).map {
                entry.value.loadUnaligned(fromByteOffset: $0, as: Value.self)
            }
            return (entry.key.loadUnaligned(as: Key.self), values)
        }
    }

    /// Every entry of a per-CPU map of u64 counters, summed over the CPUs.
    func summedCounters<Key: BitwiseCopyable>(of map: String, key: Key.Type) throws(ProbeError) -> [(key: Key, value: UInt64)] {
        let sizes = try mapSizes(map)
        guard sizes.key == MemoryLayout<Key>.size, sizes.value % 8 == 0 else {
            throw .layoutMismatch(map: map, detail: "key \(sizes.key) bytes, value \(sizes.value) bytes")
        }
        return try rawEntries(of: map).map { entry in
            let total = stride(from: 0, to: entry.value.count, by: 8).reduce(UInt64(0)) {
                $0 &+ entry.value.loadUnaligned(fromByteOffset: $1, as: UInt64.self)
            }
            return (entry.key.loadUnaligned(as: Key.self), total)
        }
    }

    // MARK: - Internals

    private func check(_ result: some BinaryInteger, _ operation: String) throws(ProbeError) {
        guard result < 0 else { return }
        throw .libbpf(operation: operation, errno: Int32(truncatingIfNeeded: -Int64(result)), log: String(cString: ab_probe__libbpf_log()))
    }

    private func mapSizes(_ map: String) throws(ProbeError) -> (key: Int, value: Int) {
        var keySize = 0
        var valueSize = 0
        try check(ab_probe__map_sizes(handle, map, &keySize, &valueSize), "finding map \(map)")
        return (keySize, valueSize)
    }

    private func checkLayout<Key, Value>(map: String, key: Key.Type, value: Value.Type) throws(ProbeError) {
        let sizes = try mapSizes(map)
        guard sizes.key == MemoryLayout<Key>.size, sizes.value == MemoryLayout<Value>.size else {
            throw .layoutMismatch(
                map: map,
                detail: "kernel key/value \(sizes.key)/\(sizes.value) bytes, "
                    + "Swift \(MemoryLayout<Key>.size)/\(MemoryLayout<Value>.size)")
        }
    }

    private func rawEntries(of map: String) throws(ProbeError) -> [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] {
        let sizes = try mapSizes(map)
        var capacity = 1024
        while true {
            var keys = [UInt8](repeating: 0, count: capacity * sizes.key)
            var values = [UInt8](repeating: 0, count: capacity * sizes.value)
            let found = keys.withUnsafeMutableBytes { keyBytes in
                values.withUnsafeMutableBytes { valueBytes in
                    ab_probe__map_dump(handle, map, keyBytes.baseAddress, valueBytes.baseAddress, capacity)
                }
            }
            try check(found, "reading map \(map)")
            if found > capacity {
                capacity = found + found / 4
                continue
            }
            return (0..<found).map { index in
                (keys[index * sizes.key..<(index + 1) * sizes.key],
                 values[index * sizes.value..<(index + 1) * sizes.value])
            }
        }
    }
}

extension ArraySlice<UInt8> {
    func loadUnaligned<T: BitwiseCopyable>(fromByteOffset offset: Int = 0, as type: T.Type) -> T {
        withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: type) }
    }
}
