import ArchbenchCore
import CCairo
import Foundation

/// cairo could not make or encode an image: its own words for why.
public struct CairoFailure: ArchbenchFailure {
    public let what: String
    public let status: String

    init(_ what: String, _ status: cairo_status_t) {
        self.what = what
        self.status = String(cString: cairo_status_to_string(status))
    }

    // Nothing in a results file makes cairo fail; memory or the library does.
    public var exitCode: ArchbenchExitCode { .environment }
    public var description: String { "cairo cannot \(what): \(status)" }
}

/// An RGB image surface and its drawing context, destroyed together. cairo reports errors by status
/// rather than by return value, and a failed context ignores every later call, so the status is
/// checked once when the surface is made and once before the PNG is written.
final class CairoCanvas {
    enum Align { case left, center, right }

    private let surface: OpaquePointer
    private let cr: OpaquePointer
    let width: Int
    let height: Int

    init(width: Int, height: Int) throws(CairoFailure) {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))!
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw CairoFailure("make a \(width)×\(height) image", status)
        }
        let cr = cairo_create(surface)!
        guard cairo_status(cr) == CAIRO_STATUS_SUCCESS else {
            let status = cairo_status(cr)
            cairo_destroy(cr)
            cairo_surface_destroy(surface)
            throw CairoFailure("draw on a \(width)×\(height) image", status)
        }
        self.surface = surface
        self.cr = cr
        self.width = width
        self.height = height
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    func color(_ rgb: RGB) {
        cairo_set_source_rgb(cr, rgb.red, rgb.green, rgb.blue)
    }

    func fill(_ rect: LatencyHeatmap.Rect, _ rgb: RGB) {
        color(rgb)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_fill(cr)
    }

    /// A rectangle's outline, on pixel centres so that a one-pixel line stays one pixel wide.
    func stroke(_ rect: LatencyHeatmap.Rect, _ rgb: RGB, width: Double = 1) {
        color(rgb)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, rect.x.rounded() + 0.5, rect.y.rounded() + 0.5, rect.width.rounded() - 1, rect.height.rounded() - 1)
        cairo_stroke(cr)
    }

    func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ rgb: RGB, width: Double = 1, dash: Double? = nil) {
        color(rgb)
        cairo_set_line_width(cr, width)
        if let dash {
            withUnsafePointer(to: dash) { cairo_set_dash(cr, $0, 1, 0) }
        }
        cairo_move_to(cr, x0, y0)
        cairo_line_to(cr, x1, y1)
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func font(size: Double, bold: Bool = false) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    func textWidth(_ text: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    /// `text` on the baseline `y`, `x` being its left end, middle or right end.
    func text(_ text: String, x: Double, y: Double, align: Align = .left, _ rgb: RGB = .ink, rotated: Bool = false) {
        let width = textWidth(text)
        let offset = align == .left ? 0 : align == .center ? width / 2 : width
        color(rgb)
        cairo_save(cr)
        cairo_translate(cr, x, y)
        // Rotated a quarter turn anticlockwise: read bottom to top, as a y-axis label is.
        if rotated { cairo_rotate(cr, -Double.pi / 2) }
        cairo_move_to(cr, -offset, 0)
        cairo_show_text(cr, text)
        cairo_restore(cr)
    }

    func png() throws(CairoFailure) -> Data {
        let drawing = cairo_status(cr)
        guard drawing == CAIRO_STATUS_SUCCESS else { throw CairoFailure("draw the image", drawing) }
        cairo_surface_flush(surface)
        let sink = PNGSink()
        // The sink is passed unretained: it must outlive the call that writes into it.
        let status = withExtendedLifetime(sink) {
            cairo_surface_write_to_png_stream(surface, { closure, bytes, length in
                guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                Unmanaged<PNGSink>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
        }
        guard status == CAIRO_STATUS_SUCCESS else { throw CairoFailure("encode the PNG", status) }
        return sink.data
    }

    /// Where cairo's write callback, a C function that captures nothing, appends the PNG's bytes.
    private final class PNGSink {
        var data = Data()
    }
}

/// A colour with components 0…1, as cairo takes them.
struct RGB: Equatable {
    var red: Double
    var green: Double
    var blue: Double

    init(_ red: Double, _ green: Double, _ blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    init(hex: UInt32) {
        self.init(Double(hex >> 16 & 0xff) / 255, Double(hex >> 8 & 0xff) / 255, Double(hex & 0xff) / 255)
    }

    static let ink = RGB(hex: 0x222222)
    static let white = RGB(1, 1, 1)

    func mixed(with other: RGB, _ fraction: Double) -> RGB {
        RGB(red + (other.red - red) * fraction, green + (other.green - green) * fraction, blue + (other.blue - blue) * fraction)
    }
}
