/* process.c - glue between mime.c (structure, decoding, splicing) and
 * rewrite.c (tracking removal in one decoded part). */
#include "build-config.h"
#include "process.h"
#include "log.h"
#include "pii.h"
#include "policy.h"
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pixel_action { PIXEL_REMOVE = 0, PIXEL_ANONYMIZE = 1 };

struct engine {
	struct rules *rules;
	int pixel_anonymize;
	int strip_campaign;
	int max_mime_depth;
};

/* OpenSSL 3 loads its digest implementations on first use, about half a
 * million instructions (tens of microseconds): done here, at start-up and
 * reload, by setting up the address forms of one made-up recipient, rather
 * than in the first message's end of message. */
static void
warm_digests(void)
{
	struct pii_set *s = pii_new();

	if (s == NULL)
		return;
	pii_add_recipient(s, "warm-up@example.invalid", "warm-up@example.invalid");
	pii_free(s);
}

struct engine *
engine_open(const struct cm_config *cfg, char *err, size_t errlen)
{
	struct cfg_error *errors = NULL;
	struct engine *e = calloc(1, sizeof *e);

	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->rules = rules_from_config(cfg, &errors);
	if (e->rules == NULL) {
		/* Every error goes to the log; the first one is the message. */
		struct cfg_error *x;
		for (x = errors; x; x = x->next)
			cm_log(LOG_ERR, "%s", x->text);
		snprintf(err, errlen, "%s", errors ? errors->text : "cannot load TrackerRules");
		cfg_errors_free(errors);
		free(e);
		return NULL;
	}
	e->pixel_anonymize = cfg->pixel_action == PIXEL_ANONYMIZE;
	e->strip_campaign = cfg->strip_campaign_params;
	e->max_mime_depth = (int)cfg->max_mime_depth;
	warm_digests();
	return e;
}

void
engine_close(struct engine *e)
{
	if (e == NULL)
		return;
	rules_free(e->rules);
	free(e);
}

size_t
engine_rule_count(const struct engine *e)
{
	return rules_count(e->rules);
}

void
engine_policy(const struct engine *e, unsigned consent, struct rewrite_policy *pol)
{
	memset(pol, 0, sizeof *pol);
	pol->rules = e->rules;
	pol->consent = consent;
	pol->pixel_anonymize = e->pixel_anonymize;
	pol->strip_campaign = e->strip_campaign;
}

/* State the MIME callback needs for every text part of one message. */
struct part_ctx {
	const struct process_input *in;
	struct rewrite_policy pol;
	struct rewrite_counts *counts;
	int oom;		/* the engine ran out of memory: the message is abandoned */
};

/* Hand the engine's edits, and with them the new text (its output holds
 * only the replacements), to the MIME layer, which then re-encodes only the
 * lines around them. Returns -1 when out of memory. */
static int
tell_edits(const struct rewrite_trace *tr, struct mime_edits *to)
{
	size_t i;

	if ((to->v = calloc(tr->n ? tr->n : 1, sizeof(*to->v))) == NULL)
		return -1;
	for (i = 0; i < tr->n; i++) {
		to->v[i].start = tr->spans[i].start;
		to->v[i].end = tr->spans[i].end;
		to->v[i].out_start = tr->spans[i].out_start;
		to->v[i].len = tr->spans[i].rep_len;
	}
	to->n = tr->n;
	to->sparse = 1;
	return 0;
}

static int
rewrite_one_part(void *arg, const struct mime_part_info *info, const char *decoded,
		 size_t len, struct buf *out, int *changed)
{
	struct part_ctx *pc = arg;
	struct rewrite_trace tr = { NULL, 0, info->edits != NULL };

	if (pc->in->progress)
		pc->in->progress(pc->in->progress_arg);
	/* Out of memory: the whole message is abandoned (MIME_ERROR, accepted
	 * unchanged with the reason logged), not a part silently kept with its
	 * trackers while the others are stripped. */
	if (rewrite_part_traced(&pc->pol, info->is_html ? REWRITE_HTML : REWRITE_TEXT,
				decoded, len, out, changed, pc->counts, &tr) < 0 ||
	    (*changed && tr.sparse && tell_edits(&tr, info->edits) < 0)) {
		free(tr.spans);
		pc->oom = 1;
		return -1;
	}
	free(tr.spans);
	return 0;
}

static struct pii_set *
build_pii(const struct process_input *in)
{
	struct pii_set *set;
	size_t i;

	if (in->nrcpt == 0)
		return NULL;
	set = pii_new();
	if (set == NULL)
		return NULL;
	for (i = 0; i < in->nrcpt; i++)
		pii_add_recipient(set, in->rcpts[i].raw,
				  in->rcpts[i].norm ? in->rcpts[i].norm : in->rcpts[i].raw);
	return set;
}

void
process_body(const struct engine *e, const struct process_input *in,
	     struct process_result *r)
{
	struct mime_opts opts = { e->max_mime_depth, in->remove_amp };
	struct buf hblock = BUF_INIT;
	struct part_ctx pc;
	struct pii_set *pii;
	char **unsub;
	size_t nunsub;

	memset(r, 0, sizeof *r);
	if (headers_block(in->hdrs, &hblock) < 0) {
		r->status = MIME_ERROR;
		snprintf(r->why, sizeof r->why, "out of memory");
		return;
	}
	pii = build_pii(in);
	unsub = policy_unsubscribe_urls(in->hdrs, &nunsub);
	memset(&pc, 0, sizeof pc);
	pc.in = in;
	pc.counts = &r->counts;
	engine_policy(e, in->consent, &pc.pol);
	pc.pol.pii = pii;
	pc.pol.unsubscribe_urls = unsub;
	pc.pol.n_unsubscribe = nunsub;
	r->status = mime_rewrite(hblock.data ? hblock.data : "", hblock.len,
				 in->body, in->blen, &opts, rewrite_one_part, &pc,
				 &r->body, &r->mime, r->why, sizeof r->why);
	if (r->status == MIME_ERROR && pc.oom)
		snprintf(r->why, sizeof r->why, "out of memory in the tracking engine");
	policy_urls_free(unsub);
	pii_free(pii);
	buf_free(&hblock);
}

void
process_result_free(struct process_result *r)
{
	buf_free(&r->body);
}
