/* Frame validation: the size rules of every frame type in one table, so a
 * frame that is short, long or carries an fd it should not is refused before
 * a handler sees it (OpenBSD's IMSG_SIZE_CHECK). */
#include "frame.h"

#include <stddef.h>
#include <string.h>

struct frame_rule {
	const char *name;
	size_t min; /* payload bytes at least */
	size_t max; /* and at most */
	bool fd;    /* carries a descriptor */
};

static const struct frame_rule rules[FR_TYPE_MAX] = {
	[FR_PEER_UP] = {"PEER_UP", sizeof(struct peer_body),
			sizeof(struct peer_body), true},
	[FR_PEER_DOWN] = {"PEER_DOWN", sizeof(struct peer_body),
			  sizeof(struct peer_body), false},
	[FR_START] = {"START", 0, 0, false},
	[FR_USER_GONE] = {"USER_GONE", sizeof(struct gone_body),
			  FRAME_MAX_PAYLOAD, false},
	[FR_SHUTDOWN] = {"SHUTDOWN", 0, 256, false},
	[FR_RELOAD] = {"RELOAD", 0, FRAME_MAX_PAYLOAD, false},
	[FR_REBUILD] = {"REBUILD", 0, 0, false},
	[FR_READY] = {"READY", 0, 0, false},
	[FR_EVENT] = {"EVENT", sizeof(struct ev_body), FRAME_MAX_PAYLOAD,
		      false},
	[FR_PROBE] = {"PROBE", sizeof(struct probe_body),
		      sizeof(struct probe_body), false},
	[FR_PROBE_REPLY] = {"PROBE_REPLY", sizeof(struct probe_body),
			    sizeof(struct probe_body), false},
	[FR_FILE_OFFER] = {"FILE_OFFER", sizeof(struct file_offer_body),
			   sizeof(struct file_offer_body), true},
	[FR_FILE_DATA] = {"FILE_DATA", 1, FRAME_MAX_PAYLOAD, false},
	[FR_FILE_CREDIT] = {"FILE_CREDIT", sizeof(struct file_credit_body),
			    sizeof(struct file_credit_body), false},
	[FR_FILE_END] = {"FILE_END", sizeof(struct file_end_body),
			 sizeof(struct file_end_body), false},
	[FR_FILE_RESULT] = {"FILE_RESULT", sizeof(struct file_end_body),
			    sizeof(struct file_end_body), false},
	[FR_CLAIM] = {"CLAIM", sizeof(struct claim_body),
		      sizeof(struct claim_body), false},
	[FR_CLAIM_REPLY] = {"CLAIM_REPLY", sizeof(struct claim_reply_body),
			    sizeof(struct claim_reply_body), false},
	[FR_KICK] = {"KICK", 0, 256, false},
	[FR_EVENTS] = {"EVENTS", sizeof(struct ev_rec) + sizeof(struct ev_body),
		       FRAME_MAX_PAYLOAD, false},
};

static bool
str_in_field(const char *s, size_t field)
{
	return memchr(s, '\0', field) != NULL;
}

static int
frame_check_event(const char *p, size_t len)
{
	struct ev_body ev;

	memcpy(&ev, p, sizeof(ev));
	if (ev.kind == 0 || ev.kind >= EV_KIND_MAX)
		return -1;
	if (sizeof(ev) + (size_t)ev.text_len != len)
		return -1;
	return str_in_field(ev.sender, sizeof(ev.sender)) ? 0 : -1;
}

static int
frame_check_events(const char *p, size_t len)
{
	struct ev_rec rec;

	for (size_t off = 0; off < len;) {
		if (len - off < sizeof(rec))
			return -1;
		memcpy(&rec, p + off, sizeof(rec));
		if (rec.len < sizeof(struct ev_body) ||
		    rec.len > len - off - sizeof(rec) ||
		    EV_REC_SIZE(rec.len) > len - off)
			return -1;
		if (frame_check_event(p + off + sizeof(rec), rec.len) < 0)
			return -1;
		off += EV_REC_SIZE(rec.len);
	}
	return 0;
}

static int
frame_check_gone(const char *p, size_t len)
{
	struct gone_body g;

	memcpy(&g, p, sizeof(g));
	if (sizeof(g) + (size_t)g.nrooms * sizeof(uint32_t) != len)
		return -1;
	return str_in_field(g.name, sizeof(g.name)) ? 0 : -1;
}

static int
frame_check_offer(const char *p)
{
	struct file_offer_body o;

	memcpy(&o, p, sizeof(o));
	if (!str_in_field(o.sender, sizeof(o.sender)) ||
	    !str_in_field(o.filename, sizeof(o.filename)))
		return -1;
	return 0;
}

/* got: bytes received in the packet, header included. 0 when sound. */
int
frame_validate(const struct frame_hdr *h, const char *payload, size_t got,
	       bool has_fd)
{
	if (got < sizeof(*h) || h->type == 0 || h->type >= FR_TYPE_MAX)
		return -1;
	const struct frame_rule *r = &rules[h->type];
	if (r->name == NULL || got - sizeof(*h) != h->len)
		return -1;
	if (h->len < r->min || h->len > r->max || has_fd != r->fd)
		return -1;
	switch (h->type) {
	case FR_EVENT:
		return frame_check_event(payload, h->len);
	case FR_EVENTS:
		return frame_check_events(payload, h->len);
	case FR_USER_GONE:
		return frame_check_gone(payload, h->len);
	case FR_FILE_OFFER:
		return frame_check_offer(payload);
	case FR_FILE_END:
	case FR_FILE_RESULT:
		return str_in_field(payload + 4, 64) ? 0 : -1;
	case FR_CLAIM:
		return str_in_field(payload + offsetof(struct claim_body, name),
				    REG_NAME_SZ)
			       ? 0
			       : -1;
	default:
		return 0;
	}
}

const char *
frame_type_name(uint16_t type)
{
	if (type == 0 || type >= FR_TYPE_MAX || rules[type].name == NULL)
		return "UNKNOWN";
	return rules[type].name;
}

bool
frame_events_next(const struct frame *f, size_t *off, struct frame *out)
{
	struct ev_rec rec;

	if (*off >= f->hdr.len)
		return false;
	memcpy(&rec, f->payload + *off, sizeof(rec));
	out->hdr = f->hdr;
	out->hdr.type = FR_EVENT;
	out->hdr.len = rec.len;
	out->payload = f->payload + *off + sizeof(rec);
	out->fd = -1;
	*off += EV_REC_SIZE(rec.len);
	return true;
}
