@testable import ArchbenchCore
import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `AtomicFile`: whole or absent, never through a name someone else put at its temporary path, the
/// mode the umask allows, and a full disk that leaves the old file as it was and nothing behind.
final class AtomicFileTests: XCTestCase {
    private func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, path)
        return info.st_mode & 0o7777
    }

    private func names(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func testAFileIsWrittenWholeWithTheModeTheUmaskAllowsAndNothingLeftBeside() throws {
        let directory = try temporaryDirectory("ab-atomic").path
        let path = directory + "/results.json"
        let saved = umask(0o022)
        defer { umask(saved) }
        let big = String(repeating: "0123456789abcdef", count: 1 << 16)  // 1 MiB: more than one write may take
        try AtomicFile.write(big, to: path)
        XCTAssertEqual(contents(path), big)
        XCTAssertEqual(mode(path), 0o644)
        try AtomicFile.write("replaced", to: path)
        XCTAssertEqual(contents(path), "replaced")
        XCTAssertEqual(names(in: directory), ["results.json"], "no temporary file left")

        // A private umask keeps the file private: 0644 less the umask, not 0644 forced.
        umask(0o077)
        try AtomicFile.write("private", to: directory + "/private.txt")
        XCTAssertEqual(mode(directory + "/private.txt"), 0o600)
    }

    func testASymlinkPlantedAtTheTemporaryPathIsNotFollowed() throws {
        let directory = try temporaryDirectory("ab-atomic").path
        let path = directory + "/report.txt"
        let victim = directory + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let planted = AtomicFile.temporaryPath(for: path, attempt: 0)
        XCTAssertEqual(planted, directory + "/.report.txt.\(getpid()).tmp")
        XCTAssertEqual(symlink(victim, planted), 0, String(cString: strerror(errno)))

        try AtomicFile.write("the report", to: path)
        XCTAssertEqual(contents(victim), "precious", "the symlink's target must be untouched")
        XCTAssertEqual(contents(path), "the report")
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "the file itself is a regular file, not the link renamed")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: planted), victim,
                       "what was planted is left as it was, not removed nor replaced")

        // A stale regular file at that name is not reused (nor truncated) either.
        XCTAssertEqual(unlink(planted), 0)
        try "stale".write(toFile: planted, atomically: false, encoding: .utf8)
        try AtomicFile.write("again", to: path)
        XCTAssertEqual(contents(planted), "stale")
        XCTAssertEqual(contents(path), "again")
        XCTAssertEqual(names(in: directory), [".report.txt.\(getpid()).tmp", "report.txt", "victim"])
    }

    func testADirectoryThatCannotBeWrittenIsAClearError() throws {
        let path = "/proc/archbench-no-such-dir/results.json"
        XCTAssertThrowsError(try AtomicFile.write("x", to: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("creating the temporary file /proc/archbench-no-such-dir/.results.json."), text)
            XCTAssertTrue(text.contains("No such file or directory"), text)
            XCTAssertTrue(text.contains("\(path) was not replaced"), text)
            XCTAssertEqual((error as? AtomicFileError)?.exitCode, .environment)
        }
    }

    func testAFullDiskLeavesTheOldFileIntactAndNoTemporaryFile() throws {
        guard geteuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root") }
        let directory = try temporaryDirectory("ab-atomic").path
        guard mount("tmpfs", directory, "tmpfs", 0, "size=64k,mode=0755") == 0 else {
            throw XCTSkip("cannot mount a tmpfs here: \(String(cString: strerror(errno)))")
        }
        defer { umount2(directory, Int32(MNT_DETACH)) }
        let path = directory + "/results.json"
        try AtomicFile.write("the old results", to: path)

        let tooBig = Data(repeating: 0x41, count: 1 << 20)  // 1 MiB into 64 KiB
        XCTAssertThrowsError(try AtomicFile.write(tooBig, to: path)) { error in
            let text = "\(error)"
            XCTAssertEqual((error as? AtomicFileError)?.errno, ENOSPC, text)
            XCTAssertTrue(text.contains("No space left on device"), text)
            XCTAssertTrue(text.contains("writing \(directory)/.results.json.\(getpid()).tmp"), text)
            XCTAssertTrue(text.contains("\(path) was not replaced"), text)
        }
        XCTAssertEqual(contents(path), "the old results", "the old file is intact")
        XCTAssertEqual(names(in: directory), ["results.json"], "no temporary file left behind")
        // And the space is back: a small write succeeds.
        try AtomicFile.write("new results", to: path)
        XCTAssertEqual(contents(path), "new results")
    }
}
