/* cairo (Debian: libcairo2-dev) draws the latency heatmap PNG: shapes, text through fontconfig, and
 * the PNG encoder, so archbench writes neither an image encoder nor a font of its own. */
#include <cairo/cairo.h>
