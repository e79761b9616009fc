/* Stand-ins for libedgetpu.so.1 (no Coral here), built by tests/test_edgetpu.py with cc.
 *
 * Default: a delegate that claims no node, so the model runs on the CPU through the real TF Lite
 * delegate plumbing (tflite_plugin_create_delegate / TfLiteDelegate.Prepare).
 * -DCRASH: segfaults inside tflite_plugin_create_delegate, as Coral's libedgetpu does under TF Lite
 * runtimes newer than the one it was built against (google-coral/edgetpu #812).
 * -DREFUSE: returns no delegate and reports why, as libedgetpu does when no accelerator is plugged in.
 */
#include <stdint.h>
#include <stdlib.h>

typedef void (*report_fn)(const char *);

/* TfLiteDelegate begins with data_ then Prepare; the rest (buffer-handle callbacks, flags, ...) stays zero. */
typedef struct {
    void *data;
    int (*prepare)(void *context, void *delegate);
    char rest[256];
} StandinDelegate;

static int prepare(void *context, void *delegate) { return 0; /* kTfLiteOk: no node replaced */ }

void *tflite_plugin_create_delegate(char **keys, char **values, size_t count, report_fn report) {
#if defined(CRASH)
    volatile int *nowhere = NULL;
    return (void *)(intptr_t)*nowhere;
#elif defined(REFUSE)
    report("Failed to open device: no Edge TPU found");
    return NULL;
#else
    StandinDelegate *delegate = calloc(1, sizeof(StandinDelegate));
    delegate->prepare = prepare;
    return delegate;
#endif
}

void tflite_plugin_destroy_delegate(void *delegate) { free(delegate); }
