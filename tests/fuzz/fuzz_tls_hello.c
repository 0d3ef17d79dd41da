/* libFuzzer entry for the ClientHello parser (make fuzz). */
#include <stdint.h>
#include <string.h>
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[TV_SNI_MAX + 1];

	if (tls_hello_sni(data, size, name) == TLS_HELLO_SNI && strlen(name) > TV_SNI_MAX)
		__builtin_trap();
	return 0;
}
