package webui

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
)

// A locale is one language of the message catalogue.
type locale struct {
	Lang string // the html lang attribute: "en", "ja"
	msgs map[string]string
}

// T returns the message key in the locale's language, formatted with args
// as by fmt.Sprintf when there are any. A key missing from the catalogue
// is returned as is (the catalogue test keeps that from happening).
func (l *locale) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		m = catalogue["en"][key]
		if m == "" {
			return key
		}
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Duration spells d the way the lifetime choices are labelled: the
// largest whole unit (days, hours, minutes, seconds) that divides it.
func (l *locale) Duration(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	for _, u := range units {
		if d >= u.d && d%u.d == 0 {
			n := int64(d / u.d)
			form := "other"
			if n == 1 {
				form = "one"
			}
			return l.T("dur."+u.name+"."+form, n)
		}
	}
	return l.T("dur.second.other", int64(d/time.Second))
}

// Time formats t for display: UTC, to the minute, the same in every
// language so that no time zone is guessed.
func (l *locale) Time(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

var (
	supported = []language.Tag{language.English, language.Japanese}
	matcher   = language.NewMatcher(supported)
	locales   = sync.OnceValue(func() map[string]*locale {
		m := make(map[string]*locale, len(catalogue))
		for lang, msgs := range catalogue {
			m[lang] = &locale{Lang: lang, msgs: msgs}
		}
		return m
	})
)

// localeFor picks the language of a request from its Accept-Language
// header: Japanese for a browser that prefers it, English otherwise.
func localeFor(r *http.Request) *locale {
	ls := locales()
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return ls["en"]
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return ls["en"]
	}
	base, _ := supported[i].Base()
	if l, ok := ls[strings.ToLower(base.String())]; ok {
		return l
	}
	return ls["en"]
}

// catalogue holds every string the pages show, by language. Messages with
// verbs are formatted by fmt.Sprintf with the arguments the templates pass.
var catalogue = map[string]map[string]string{
	"en": {
		"site.name":              "onetime",
		"site.tagline":           "Share a secret that can be read once, then is gone.",
		"site.footer":            "Secrets are encrypted and can be viewed once. Send the link to your reader; keep the receipt to yourself: whoever has it can burn the secret.",
		"nav.home":               "Share a new secret",
		"nav.signin":             "Sign in",
		"nav.signedin":           "Signed in as %s",
		"nav.account":            "Account",
		"nav.recent":             "Your recent secrets",
		"nav.signout":            "Sign out",
		"nav.signin.again":       "Sign in",
		"nav.anonymous":          "Share a secret without signing in",
		"notsignedin.title":      "You are not signed in",
		"notsignedin.text":       "This page is for signed-in customers. You can still share a secret without signing in.",
		"signedout.title":        "You are signed out",
		"signedout.text":         "Your browser no longer sends your credentials here. Some browsers keep them until they are closed: if a page still shows you signed in, close the browser.",
		"recent.title":           "Your recent secrets",
		"recent.text":            "Your latest secrets, newest first. Listing them here does not count as reading a receipt.",
		"recent.receipt":         "Shared",
		"recent.empty":           "You have not shared a secret recently.",
		"share.title":            "Share a secret",
		"share.secret":           "Secret",
		"share.secret.hint":      "Paste a password, a private message or a key. The link you get can open it once.",
		"share.passphrase":       "Passphrase (optional)",
		"share.passphrase.hint":  "The reader will need it to open the secret. Send it by another channel.",
		"share.ttl":              "Lifetime",
		"share.ttl.hint":         "The secret is destroyed when this time is up, read or not.",
		"share.recipient":        "Recipient's email (optional)",
		"share.recipient.hint":   "We email the link to this address.",
		"share.submit":           "Create a secret link",
		"share.generate":         "Generate a password instead",
		"share.generate.hint":    "Makes a random password and a link to it, with the lifetime and passphrase above. A secret typed above is not shared.",
		"share.generate.warning": "Generating a password discards the secret you typed: it will not be shared. Press the button again to generate a password anyway.",
		"share.generate.confirm": "Discard it and generate",
		"error.heading":          "Please check the form",
		"error.secret.empty":     "Enter the secret to share.",
		"error.secret.toolarge":  "The secret is too large: at most %d bytes.",
		"error.secret.utf8":      "The secret must be text (UTF-8). Enter it again.",
		"error.ttl":              "Choose a lifetime from the list.",
		"error.passphrase":       "The passphrase must be %d to %d characters long.",
		"error.recipient":        "Check the recipient: one valid email address, and only when signed in.",
		"error.invalid":          "The request was not valid.",
		"receipt.title":          "Your receipt",
		"receipt.intro":          "This page is your receipt: keep it to yourself. Bookmark it to check later whether the secret was read.",
		"receipt.link":           "The link to send",
		"receipt.link.hint":      "Send this link to the reader. It opens the secret once.",
		"receipt.link.select":    "Select the whole link and copy it.",
		"receipt.ready.title":    "Your link is ready",
		"receipt.ready.text":     "Copy the link and send it to the reader. It opens the secret once.",
		"receipt.burn.hint":      "Changed your mind? Burning destroys the secret before anyone reads it.",
		"copy.link":              "Copy the link",
		"passphrase.show":        "Show passphrase",
		"receipt.state":          "State",
		"receipt.created":        "Created",
		"receipt.expires":        "Expires",
		"receipt.received":       "Received",
		"receipt.burned":         "Burned",
		"receipt.passphrase":     "Passphrase",
		"receipt.passphrase.yes": "Required",
		"receipt.passphrase.no":  "None",
		"receipt.recipients":     "Sent to",
		"receipt.heading":        "What became of it",
		"list.sep":               ", ",
		"receipt.burn":           "Burn this secret",
		"receipt.burn.failed":    "The secret could not be burned: it has already been read, burned or has expired.",
		"state.new":              "Not read yet",
		"state.new.desc":         "Nobody has revealed the secret yet. Link previews and the reader opening the link without revealing it do not count.",
		"state.viewed":           "Not read yet",
		"state.viewed.desc":      "Nobody has revealed the secret yet. Link previews and the reader opening the link without revealing it do not count.",
		"state.received":         "Read",
		"state.received.desc":    "The reader revealed the secret, and it is gone from the server.",
		"state.burned":           "Burned",
		"state.burned.desc":      "The secret was destroyed with this receipt before anyone read it.",
		"state.expired":          "Expired",
		"state.expired.desc":     "Nobody read the secret before its lifetime ran out, and it is gone.",
		"state.orphaned":         "Gone",
		"state.orphaned.desc":    "The secret can no longer be read.",
		"generated.title":        "Password generated",
		"generated.value":        "The password",
		"generated.value.hint":   "This is the only time it is shown to you.",
		"generated.receipt":      "Open the receipt",
		"burn.title":             "Burn this secret?",
		"burn.text":              "Burning destroys the secret now. Nobody will be able to read it, and this cannot be undone.",
		"burn.confirm":           "Yes, burn it",
		"burn.cancel":            "Cancel",
		"secret.title":           "You have been sent a secret",
		"secret.text":            "It can be viewed once. After you reveal it, it is gone for good, so be ready to copy it.",
		"secret.passphrase":      "Passphrase",
		"secret.passphrase.hint": "The sender set a passphrase for this secret.",
		"secret.wrong":           "That passphrase is not right. Try again.",
		"secret.attempts.other":  "%d attempts left.",
		"secret.attempts.one":    "Last attempt: a wrong passphrase now destroys the secret.",
		"gone.attempts.title":    "Too many wrong passphrases: the secret was destroyed",
		"gone.attempts.text":     "The secret can no longer be opened by anyone. Ask the sender to share it again, and to send you the passphrase by another channel.",
		"secret.reveal":          "Reveal the secret",
		"revealed.title":         "Your secret",
		"revealed.text":          "This secret has now been deleted. Copy it before you leave this page: it cannot be shown again.",
		"revealed.value":         "Secret value",
		"copy.button":            "Copy",
		"copy.done":              "Copied to the clipboard.",
		"revealed.controls":      "This secret contains control characters that cannot be shown as text. Each is shown as its name in a box, such as NUL or ESC. Copy copies the real characters.",
		"gone.title":             "This secret is gone or never existed",
		"gone.text":              "A secret can be viewed only once, and it expires after a while. Ask the sender to share it again if you still need it.",
		"gone.receipt.title":     "This receipt is gone or never existed",
		"gone.receipt.text":      "Receipts expire some time after their secret.",
		"notfound.title":         "Page not found",
		"notfound.text":          "There is no page at this address.",
		"method.title":           "Method not allowed",
		"method.text":            "This page cannot be used that way.",
		"forbidden.title":        "Request refused",
		"forbidden.text":         "This form was sent from another site, so it was refused. Open this site directly and try again.",
		"unauthorized.title":     "Sign-in failed",
		"unauthorized.text":      "Your credentials were not accepted.",
		"toolarge.title":         "Request too large",
		"ratelimited.title":      "Too many requests",
		"ratelimited.text":       "You have made too many requests. Please wait a moment and try again.",
		"guessing.title":         "Too many failed attempts",
		"guessing.text":          "Too many unknown links, wrong passphrases or wrong credentials came from your address. Please wait a minute and try again.",
		"busy.title":             "The server is busy",
		"busy.text":              "It could not answer in time. Nothing was shared or revealed: please try again in a moment.",
		"error.title":            "Something went wrong",
		"error.text":             "The request could not be completed. Please try again later.",
		"dur.second.one":         "%d second",
		"dur.second.other":       "%d seconds",
		"dur.minute.one":         "%d minute",
		"dur.minute.other":       "%d minutes",
		"dur.hour.one":           "%d hour",
		"dur.hour.other":         "%d hours",
		"dur.day.one":            "%d day",
		"dur.day.other":          "%d days",
		// The zero-knowledge mode (zk.js).
		"zk.mode.on":            "Encrypted in your browser: the server never sees your secret or its passphrase. The key is the part of the link after #, which is never sent to the server.",
		"zk.mode.nojs":          "JavaScript is off, so your secret is sent to the server, which encrypts it there. Turn JavaScript on to encrypt it in your browser instead, where the server never sees it.",
		"zk.mode.nocrypto":      "This browser cannot encrypt on this page (it needs a secure connection, HTTPS), so your secret is sent to the server, which encrypts it there.",
		"zk.recipient.note":     "The link is not sent by e-mail: it is encrypted in your browser, and the server never has its key, so it could only send a link that does not open. Copy the link and send it yourself.",
		"zk.working.share":      "Encrypting in your browser…",
		"zk.working.reveal":     "Opening in your browser…",
		"zk.error.share":        "Your browser could not encrypt the secret. Nothing was sent. Please try again.",
		"zk.error.reveal":       "The secret could not be opened in your browser. Reload the page to try again; if the secret is gone, ask the sender to share it again.",
		"zk.receipt.keyhere":    "The part of the link after # is its key. It was made in your browser, never reached the server, and only this tab keeps it: copy the link now and send it to the reader.",
		"zk.receipt.nokey":      "This link opens only with its key, the part after # in the copy you made when sharing. The key was made in your browser and never reached the server, so this page cannot show the whole link. If you no longer have it, burn this secret and share it again.",
		"zk.secret.nojs":        "This secret was encrypted in the sender's browser. The key that opens it is the part of the link after #, which never reaches the server: turn JavaScript on to open it here.",
		"zk.secret.nokey":       "This link is missing its key, the part after # at its end. Nothing was opened, and the secret is still there: ask the sender for the whole link.",
		"zk.secret.nocrypto":    "This browser cannot open the secret on this page (it needs a secure connection, HTTPS). Nothing was opened, and the secret is still there.",
		"receipt.encryption":    "Encrypted",
		"receipt.encryption.zk": "In your browser: the server never saw the secret",
	},
	"ja": {
		"site.name":              "onetime",
		"site.tagline":           "一度だけ読める秘密を共有します。読まれると消えます。",
		"site.footer":            "秘密は暗号化され、一度だけ表示できます。リンクは受け取る人に送り、受領証はご自身だけで保管してください。受領証があれば誰でも秘密を破棄できます。",
		"nav.home":               "新しい秘密を共有する",
		"nav.signin":             "サインイン",
		"nav.signedin":           "%s としてサインイン中",
		"nav.account":            "アカウント",
		"nav.recent":             "最近の秘密",
		"nav.signout":            "サインアウト",
		"nav.signin.again":       "サインインする",
		"nav.anonymous":          "サインインせずに秘密を共有する",
		"notsignedin.title":      "サインインしていません",
		"notsignedin.text":       "このページはサインインした利用者向けです。サインインしなくても秘密は共有できます。",
		"signedout.title":        "サインアウトしました",
		"signedout.text":         "ブラウザーはこのサイトに認証情報を送らなくなりました。ブラウザーによっては閉じるまで認証情報を保持します。サインイン中と表示される場合は、ブラウザーを閉じてください。",
		"recent.title":           "最近の秘密",
		"recent.text":            "最近共有した秘密を新しい順に表示します。ここに一覧しても受領証を読んだことにはなりません。",
		"recent.receipt":         "共有日時",
		"recent.empty":           "最近共有した秘密はありません。",
		"share.title":            "秘密を共有する",
		"share.secret":           "秘密",
		"share.secret.hint":      "パスワード、非公開のメッセージ、鍵などを貼り付けてください。作成されるリンクで一度だけ開けます。",
		"share.passphrase":       "パスフレーズ（任意）",
		"share.passphrase.hint":  "受け取る人が秘密を開くときに必要です。別の手段で伝えてください。",
		"share.ttl":              "有効期間",
		"share.ttl.hint":         "この期間が過ぎると、読まれていなくても秘密は破棄されます。",
		"share.recipient":        "受信者のメールアドレス（任意）",
		"share.recipient.hint":   "このアドレスにリンクをメールで送ります。",
		"share.submit":           "秘密のリンクを作成",
		"share.generate":         "代わりにパスワードを生成",
		"share.generate.hint":    "ランダムなパスワードとそのリンクを、上の有効期間とパスフレーズで作成します。上に入力した秘密は共有されません。",
		"share.generate.warning": "パスワードを生成すると、入力した秘密は破棄され、共有されません。それでも生成する場合は、もう一度ボタンを押してください。",
		"share.generate.confirm": "破棄して生成する",
		"error.heading":          "入力内容を確認してください",
		"error.secret.empty":     "共有する秘密を入力してください。",
		"error.secret.toolarge":  "秘密が大きすぎます。最大 %d バイトです。",
		"error.secret.utf8":      "秘密はテキスト（UTF-8）にしてください。もう一度入力してください。",
		"error.ttl":              "有効期間を一覧から選んでください。",
		"error.passphrase":       "パスフレーズは %d 文字以上 %d 文字以下にしてください。",
		"error.recipient":        "受信者を確認してください。有効なメールアドレスを一つ、サインイン中のみ指定できます。",
		"error.invalid":          "リクエストが正しくありません。",
		"receipt.title":          "秘密の受領証",
		"receipt.intro":          "このページは受領証です。ご自身だけで保管してください。ブックマークすると、秘密が読まれたかどうかを後で確認できます。",
		"receipt.link":           "送るリンク",
		"receipt.link.hint":      "このリンクを受け取る人に送ってください。秘密を一度だけ開けます。",
		"receipt.link.select":    "リンク全体を選択してコピーしてください。",
		"receipt.ready.title":    "リンクができました",
		"receipt.ready.text":     "リンクをコピーして、受け取る人に送ってください。秘密を一度だけ開けます。",
		"receipt.burn.hint":      "取り消したいときは、読まれる前に秘密を破棄できます。",
		"copy.link":              "リンクをコピー",
		"passphrase.show":        "パスフレーズを表示",
		"receipt.state":          "状態",
		"receipt.created":        "作成日時",
		"receipt.expires":        "有効期限",
		"receipt.received":       "受信日時",
		"receipt.burned":         "破棄日時",
		"receipt.passphrase":     "パスフレーズ",
		"receipt.passphrase.yes": "必要",
		"receipt.passphrase.no":  "なし",
		"receipt.recipients":     "送信先",
		"receipt.heading":        "秘密の状態",
		"list.sep":               "、",
		"receipt.burn":           "この秘密を破棄する",
		"receipt.burn.failed":    "秘密を破棄できませんでした。すでに読まれたか、破棄されたか、期限が切れています。",
		"state.new":              "未読",
		"state.new.desc":         "まだ誰も秘密を表示していません。リンクのプレビューや、表示せずにリンクを開いただけの場合は含みません。",
		"state.viewed":           "未読",
		"state.viewed.desc":      "まだ誰も秘密を表示していません。リンクのプレビューや、表示せずにリンクを開いただけの場合は含みません。",
		"state.received":         "読まれました",
		"state.received.desc":    "受け取る人が秘密を表示し、サーバーから削除されました。",
		"state.burned":           "破棄済み",
		"state.burned.desc":      "秘密は読まれる前に、この受領証から破棄されました。",
		"state.expired":          "期限切れ",
		"state.expired.desc":     "秘密は読まれないまま有効期間が過ぎ、削除されました。",
		"state.orphaned":         "消失",
		"state.orphaned.desc":    "秘密はもう読めません。",
		"generated.title":        "パスワードを生成しました",
		"generated.value":        "パスワード",
		"generated.value.hint":   "表示されるのは今回だけです。",
		"generated.receipt":      "受領証を開く",
		"burn.title":             "この秘密を破棄しますか？",
		"burn.text":              "破棄すると秘密はすぐに消え、誰も読めなくなります。元に戻せません。",
		"burn.confirm":           "破棄する",
		"burn.cancel":            "キャンセル",
		"secret.title":           "秘密が届いています",
		"secret.text":            "一度だけ表示できます。表示すると完全に消えるので、コピーする準備をしてから開いてください。",
		"secret.passphrase":      "パスフレーズ",
		"secret.passphrase.hint": "送信者がこの秘密にパスフレーズを設定しました。",
		"secret.wrong":           "パスフレーズが違います。もう一度入力してください。",
		"secret.attempts.other":  "残り %d 回入力できます。",
		"secret.attempts.one":    "最後の 1 回です。パスフレーズを間違えると秘密は破棄されます。",
		"gone.attempts.title":    "誤ったパスフレーズが多すぎたため、秘密は破棄されました",
		"gone.attempts.text":     "この秘密はもう誰も開けません。送信者にもう一度共有してもらい、パスフレーズは別の手段で受け取ってください。",
		"secret.reveal":          "秘密を表示する",
		"revealed.title":         "あなたへの秘密",
		"revealed.text":          "この秘密はサーバーから削除されました。このページを離れる前にコピーしてください。二度と表示できません。",
		"revealed.value":         "秘密の内容",
		"copy.button":            "コピー",
		"copy.done":              "クリップボードにコピーしました。",
		"revealed.controls":      "この秘密には、テキストとして表示できない制御文字が含まれています。それぞれ NUL や ESC のような名前を枠で囲んで示しています。コピーすると元の文字がコピーされます。",
		"gone.title":             "この秘密は存在しないか、すでに消えています",
		"gone.text":              "秘密は一度しか表示できず、一定時間で期限が切れます。必要なら送信者にもう一度共有してもらってください。",
		"gone.receipt.title":     "この受領証は存在しないか、すでに消えています",
		"gone.receipt.text":      "受領証は秘密の期限の後、しばらくすると消えます。",
		"notfound.title":         "ページが見つかりません",
		"notfound.text":          "このアドレスにはページがありません。",
		"method.title":           "この操作はできません",
		"method.text":            "このページはその方法では使えません。",
		"forbidden.title":        "リクエストを拒否しました",
		"forbidden.text":         "このフォームは別のサイトから送信されたため拒否しました。このサイトを直接開いてやり直してください。",
		"unauthorized.title":     "サインインできませんでした",
		"unauthorized.text":      "認証情報が受け付けられませんでした。",
		"toolarge.title":         "リクエストが大きすぎます",
		"ratelimited.title":      "リクエストが多すぎます",
		"ratelimited.text":       "短時間に多くのリクエストがありました。少し待ってからもう一度お試しください。",
		"guessing.title":         "失敗した試行が多すぎます",
		"guessing.text":          "お使いのアドレスから、存在しないリンク、誤ったパスフレーズ、または誤った認証情報が多すぎました。1 分ほど待ってからもう一度お試しください。",
		"busy.title":             "サーバーが混み合っています",
		"busy.text":              "時間内に応答できませんでした。何も共有・表示されていません。少し待ってからもう一度お試しください。",
		"error.title":            "エラーが発生しました",
		"error.text":             "リクエストを完了できませんでした。しばらくしてからもう一度お試しください。",
		"dur.second.one":         "%d 秒",
		"dur.second.other":       "%d 秒",
		"dur.minute.one":         "%d 分",
		"dur.minute.other":       "%d 分",
		"dur.hour.one":           "%d 時間",
		"dur.hour.other":         "%d 時間",
		"dur.day.one":            "%d 日",
		"dur.day.other":          "%d 日",
		"zk.mode.on":             "秘密はお使いのブラウザーで暗号化されます。サーバーが秘密やパスフレーズを見ることはありません。鍵はリンクの # より後ろの部分で、サーバーには送られません。",
		"zk.mode.nojs":           "JavaScript がオフのため、秘密はサーバーに送られ、サーバーで暗号化されます。JavaScript をオンにすると、サーバーに見られないようブラウザーで暗号化できます。",
		"zk.mode.nocrypto":       "このブラウザーはこのページで暗号化できません（安全な接続 HTTPS が必要です）。秘密はサーバーに送られ、サーバーで暗号化されます。",
		"zk.recipient.note":      "リンクはメールでは送りません。ブラウザーで暗号化したリンクの鍵をサーバーは持たないため、開けないリンクしか送れないからです。リンクをコピーして、ご自身で送ってください。",
		"zk.working.share":       "ブラウザーで暗号化しています…",
		"zk.working.reveal":      "ブラウザーで開いています…",
		"zk.error.share":         "ブラウザーで秘密を暗号化できませんでした。何も送信されていません。もう一度お試しください。",
		"zk.error.reveal":        "ブラウザーで秘密を開けませんでした。ページを再読み込みしてもう一度お試しください。秘密が消えている場合は、送信者にもう一度共有してもらってください。",
		"zk.receipt.keyhere":     "リンクの # より後ろの部分が鍵です。鍵はお使いのブラウザーで作られ、サーバーには届いていません。保持しているのはこのタブだけなので、今すぐリンクをコピーして受け取る人に送ってください。",
		"zk.receipt.nokey":       "このリンクは鍵がなければ開けません。鍵は、共有したときにコピーしたリンクの # より後ろの部分です。鍵はブラウザーで作られサーバーには届いていないため、このページではリンク全体を表示できません。リンクが手元にない場合は、この秘密を破棄してもう一度共有してください。",
		"zk.secret.nojs":         "この秘密は送信者のブラウザーで暗号化されています。開くための鍵はリンクの # より後ろの部分で、サーバーには届きません。ここで開くには JavaScript をオンにしてください。",
		"zk.secret.nokey":        "このリンクには鍵（末尾の # より後ろの部分）がありません。何も開いておらず、秘密はそのまま残っています。送信者にリンク全体を送ってもらってください。",
		"zk.secret.nocrypto":     "このブラウザーはこのページで秘密を開けません（安全な接続 HTTPS が必要です）。何も開いておらず、秘密はそのまま残っています。",
		"receipt.encryption":     "暗号化",
		"receipt.encryption.zk":  "お使いのブラウザーで暗号化。サーバーは秘密を見ていません",
	},
}
