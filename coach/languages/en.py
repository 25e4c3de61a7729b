"""English."""

import re

from coach.languages import LanguagePack

#: What a debtor owns, loves or goes to, as listed together ("your car or your house", "your home or your work").
_BELONGINGS = (r"(?:car|truck|house|home|job|wages|paycheck|account|bank account|savings|property|stuff|belongings"
               r"|kids|children|family|wife|husband|parents|mother|mom|father|dad|employer|boss|neighbou?rs|friends"
               r"|work|workplace|office|door|place|school|church)")
#: The lawful event a pause waits for ("until you receive the validation", "until we hear back from the
#: creditor", "until it is resolved"): such an "until" bounds a pause, it is no condition.
_PAUSE_ENDS = (
    # "until you get the letter", "until youve got the documents", "until we have mailed them"
    r"(?:(?:you(?:ve| ve| have)? (?:get|got|gotten|receive|received|have|had|see|seen|review|reviewed)"
    r"|we(?:ve| ve| have)? (?:send|sent|mail|mailed|get|got|receive|received))"
    r" (?:(?:the |your |our |a |an |that |those )?(?:written )?(?:validation|verification|documents?|paperwork|proof"
    r"|statements?|itemi[sz]ation|notice|copy|copies|response|repl(?:y|ies)|results?|answer)\b"
    r"|(?:it|them)(?: in the mail| by mail| by email)?(?:$| and\b| so\b))"
    r"|we hear back from (?:the )?(?:creditor|bank|client|original creditor|team)\b"
    r"|(?:it|its|it s|this|the (?:dispute|review)) (?:is )?(?:verified|validated|resolved|reviewed|checked)"
    r"|(?:the )?(?:verification|validation|review|investigation)|then\b)"
)
#: The calls stopped, as a debtor asks for it ("stop calling", "not call", "leave me alone", "no more calls").
_CALLS_STOPPED = (r"(?:(?:stop|quit|cease) (?:calling|contacting|ringing|phoning|the calls)"
                  r"|not (?:to )?(?:call|contact|ring|phone)|leave (?:you|me) alone|no more calls)")

_NUMBER_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|twelfth|[0-9]+(?:st|nd|rd|th)?)"
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)"
_STREET = r"(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|way|boulevard|blvd|place|pl|circle|apartment|apt|unit|suite|highway|hwy|parkway|terrace|trail)"
#: A word of a bare name reply: not a word that non-answers, hedges and questions are made of.
_NAME_WORD = (
    r"(?!(?:it|its|depends|depend|why|what|whats|who|whos|how|where|when|which|maybe|perhaps|um|uh|huh|hmm|er|sorry"
    r"|okay|ok|asking|calling|about|regarding|know|wants|want|hold|wait|hang|one|sec|second|minute|yes|yeah|no|nope"
    r"|not|sure|the|a|an|is|was|for|me|you|him|her|this|that|can|could|help|speak|busy|call|later|again|pardon|come"
    r"|go|now)\b)[a-z]+"
)


#: Family members a debtor may lose (the speaker's own bereavement, :attr:`LanguagePack.bereavement`).
_KIN = ("mom|mother|mum|mama|ma|dad|father|daddy|pops|husband|hubby|wife|son|daughter|brother|sister|baby|kid|child|boy"
        "|girl|grandma|grandmother|grandpa|grandfather|granddad|grandad|granny|nana|grandson|granddaughter|uncle|aunt"
        "|auntie|partner|fiance|fiancee|boyfriend|girlfriend|cousin|nephew|niece|stepdad|stepmom|stepson|stepdaughter")
_KIN_ADJECTIVE = "little|baby|older|younger|big|twin|best|own|step|sweet"

PACK = LanguagePack(
    code="en",
    fillers=("um", "uh", "uhm", "er", "oh", "well", "hmm", "mm", "like", "so"),
    identity_details=re.compile(
        rf"\b{_MONTH}\b|(?:\b{_NUMBER_WORD}\b[\s-]*){{3,}}|\b\d{{3,}}\b"
        rf"|(?:\b\d+|(?:\b{_NUMBER_WORD}\b[\s-]*)+)\s+\w+(?:\s+\w+)?\s+{_STREET}\b"  # "seventeen fourteen alder court"
        rf"|\b(?:born|birthday|date of birth|dob|zip|social|last four|ssn)\b"
    ),
    identity_denial=re.compile(
        # "july seventh no eighth": a slip corrected, not a denial
        rf"\b(?:no|nope)\b(?! (?:sorry |wait |i mean |uh |um )*(?:{_NUMBER_WORD}|{_MONTH})\b)"
        r"|\b(?:not me|not here|isnt here|is not here|wrong number|wrong person|never heard|who\b.*\?"
        r"|dont know (?:him|her|them|anyone|who)|no one|nobody|he.?s not|she.?s not|passed away|deceased|died"
        r"|you (?:want|mean|must mean|re looking for|are looking for|need) (?:my|his|her) \w+|(?:im|i am|i.?m) (?:his|her) \w+"
        r"|(?:that.?s|that is|thats) my (?:dad|father|mom|mother|son|daughter|husband|wife|brother|sister))\b"
    ),
    # "um why", "depends, who's asking": a question back behind a filler or a hedge is one still
    question=re.compile(
        r"^(?:(?:um|uh|er|oh|hmm|it depends|depends)[\s,]+)*(?:who|what|why|how|where|which|whats|whos)\b"
        r"|\?$|\bwho.?s (?:asking|calling|this)\b|\bwho (?:wants to know|is (?:asking|calling|this))\b"
    ),
    name_reply_max=4,
    # a name's words are none of the words a non-answer is made of ("it depends", "hold on", "um why")
    name_reply=re.compile(
        r"^(?:(?:um|uh|oh|er|alright|all right|ok|okay)\s+)*(?:(?:yes|yeah|yep|yup|sure|right|correct|hi|hello)\s+)?"
        r"(?:(?:this is|it.?s|i.?m|im|my name is|speaking)\s+)?"
        rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}(?:\s+(?:here|speaking))?$"
    ),
    identity_rejected=re.compile(
        r"\b(?:that|this|it|those|these|the (?:date|address|digits|numbers?|birthday|name|zip|zip code))(?: \w+)?"
        r" (?:doesn.?t|does not|didn.?t|did not|don.?t|do not) (?:match|line up|check out)\b"
        r"|\bnot (?:a match|matching|what (?:we|i) have)\b|\b(?:doesn.?t|does not) match (?:what|our|the)\b"
    ),
    relation_check=re.compile(
        r"\b(?:are you|is this|am i (?:speaking|talking) (?:with|to)|i.?m looking for) \w+(?:.?s) (?:friend|wife|husband|partner|mother|mom"
        r"|father|dad|brother|sister|son|daughter|roommate|coworker|co worker|neighbor|emergency contact|reference)\b"
    ),
    # a mishearing beside who they are, or the one sought named as a relative ("wrong person" alone disputes the debt)
    identity_disowned=re.compile(
        r"\b(?:misheard|thought you said)\b.{0,40}\b(?:i.?m|i am|this is) (?:his|her|their) (?:dad|father|mom|mother|son|daughter"
        r"|husband|wife|brother|sister|roommate|friend)\b|\b(?:you.?re|you are) looking for my (?:dad|father|mom|mother|son|daughter"
        r"|husband|wife|brother|sister)\b|\byou (?:meant|mean) my (?:dad|father|mom|mother|son|daughter|husband|wife|brother|sister)\b"
    ),
    identity_accepted=re.compile(
        r"\b(?:that matches|(?:that|it|everything|all) (?:matches|checks out|lines up)|that.?s a match"
        r"|(?:thank you|thanks) for (?:verifying|confirming|the verification)|(?:you.?re|you are|you.?ve been|you have been) verified"
        r"|(?:that.?s|that is) (?:correct|right) (?:thank you|thanks))\b"
    ),
    identity_affirm=re.compile(
        r"^(?:(?:um|uh|oh|well|hi|hello|hey|ah|alright|all right|ok|okay|fine)\s+)*(?:yes|yeah|yep|yup|yea|ya|yah|yes sir|yes maam|sure|correct|right"
        r"|speaking|mhm|mm hmm|uh huh|affirmative|you got (?:him|her|me|it)|you found (?:him|her|me)"
        r"|(?:thats|that is|this is|it is|its|that would be|that.?d be|that will be) me"
        r"|(?:this|that) is (?:he|she|him|her)|(?:i am|im|i.?m) (?:the account holder|the one|the person))\b"
    ),
    third_party=re.compile(
        r"\b(?:he|she|him|his|hers|her|hes|shes|they|them|their|wife|husband|mother|mom|mum|mama|dad|father|son"
        r"|daughter|brother|sister|roommate|room mate|boss|friend|neighbor|neighbour|landlord|landlady|aunt|uncle"
        r"|grandma|grandmother|grandpa|grandfather|cousin|girlfriend|boyfriend|fiance|relative|tenant|coworker"
        r"|co worker|secretary|assistant|receptionist|hold on|one moment|one sec|let me get|take a message)\b"
    ),
    third_person=re.compile(r"\b(?:he|she|him|his|hers|her|hes|shes|himself|herself)\b"),
    self_reference=re.compile(
        r"\b(?:this|that|it) is (?:he|she|him|her)(?: speaking)?\b|\b(?:him|her) speaking\b"
        r"|\b(?:you.?re|youre|you are) (?:speaking|talking) (?:to|with) (?:him|her)\b|\byou (?:got|found) (?:him|her)\b"
    ),
    payment_channel=re.compile(
        r"\b(?:visa|mastercard|master card|amex|american express|discover card|debit card|credit card|my card|the card"
        r"|checking|savings account|bank account|routing number|account number|zelle|venmo|paypal|cash app|cashapp"
        r"|apple pay|google pay|money order|cashiers check|certified check|western union|moneygram|online portal"
        r"|the portal|your website|autopay|auto pay|auto debit|direct debit|ach)\b"
    ),
    promise_verb=re.compile(
        r"\b(?:i.?ll|i will|i can|i could|we.?ll|we can|i.?m gonna|im going to|i am going to|let.?s|lets) "
        r"(?:\w+ ){0,2}(?:pay|send|do|make|put|mail|set up|schedule|go with|get|take care|transfer|drop|wire|cover)\b"
        r"|\b(?:sounds good|that works|works for me|deal|okay lets do|ok lets do|go ahead and (?:run|charge|take|put|set))\b"
        r"|\b(?:charge|run|put) (?:it|that|the payment) (?:on|to|through)\b|\bpost.?dat"
    ),
    payment_details=re.compile(
        r"\b(?:card number|routing number|bank account number|cvv|cvc|security code|expiration date|expiry date"
        r"|exp date|card expires|card ending)\b"
    ),
    contact_request=re.compile(
        r"\b(?:phone number|cell number|cell phone number|number to reach|reach you at|call ?back number|callback number"
        r"|good number|best number|another number|social security|ssn|date of birth|birthday|zip code)\b"
    ),
    verification_request=re.compile(r"\b(?:last four|last 4|verify|for verification)\b"),
    payment_terms_question=re.compile(
        # when
        r"\bwhen (?:can|could|would|will|do|are|should) (?:you|we) (?:\w+ ){0,3}?(?:do|pay|make|send|get|put|set|have|be able"
        r"|start|schedule|run|manage|expect|thinking)\b|\b(?:what|which) (?:\w+ )?(?:day|date)s?\b|\bis there a (?:day|date)\b"
        r"|\bwhat.?s a (?:good |realistic |comfortable )?(?:day|date)\b"
        r"|\bwhen\b(?:\W+\w+){0,6}?\W+(?:paid|pay ?day|pay ?check|check|deposit)\b"
        # how much
        r"|\bhow much (?:can|could|would|will|are|do) you\b|\bwhat (?:\w+ )?amount\b|\bwhat (?:can|could) you (?:do|afford|pay|manage|swing)\b"
        # how
        r"|\bhow (?:would|do|will|are|did) you (?:\w+ ){0,3}?(?:pay|send it|send that|make the payment|make that payment)\b"
        r"|\b(?:what|which).{0,20}\bway\b.{0,15}\bpay\b|\bpay (?:by|with|through|via|using)\b.{0,30}\bor\b"
        r"|\b(?:card|debit|credit|bank|checking|check|cash) or (?:a |by |with )?(?:card|debit|credit|bank|checking|check|account|cash)\b"
        r"|\b(?:which|what) (?:card|account|method|payment method)\b"
    ),
    payment_method=re.compile(
        # a cheque, not "check with my wife" or "check on it"
        r"\b(?:card|debit|credit|bank|checking|check(?! with| on| if| my| and| back| in| that| it)|cash|online|app|by phone"
        r"|over the phone|transfer|apple pay|google pay"
        r"|money order)\b"
    ),
    spoken_digit=re.compile(r"[0-9]|\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b"),
    card_digits=re.compile(
        r"(?:\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|[0-9])\b[\s-]*){8,}|\b[0-9]{4}[\s-]?[0-9]{4}[\s-]?[0-9]{4}"
    ),
    # a mark not followed by a space ("$5.00", "3,000") is no break
    clause_break=re.compile(r"[,;:.!?\u2026]+(?=\s|$)|\s+-+\s+"),
    # a question mark, or a clause that opens as a question does where transcripts drop the mark ("will they
    # put me in jail over this"): an auxiliary before its subject, or "what happens"
    question_asked=re.compile(
        r"(?i)\?|^\W*(?:(?:so|and|but|um|uh|like|wait|okay|ok|oh|well|hold on|sorry)\W+)*"
        r"(?:(?:am|will|would|could|can|is|are|was|were|should|shall)(?:nt|n.?t)?"
        r" (?:i|you|they|we|he|she|it|this|that|there|u|ya|my|the|your)\b"
        r"|(?:do|does|did)(?:nt|n.?t)? (?:i|you|they|we|he|she|u|ya)\b(?! dare)"
        r"|(?:are|is) (?:you|they|we|this|that|it) (?:gonna|going to)\b|what (?:happens|will happen|would happen)\b)"
    ),
    # what may happen to the debtor: asked of in a question, a frightened question for the agent to
    # answer, no objection and no hostile tone (:meth:`asks_of_consequences`)
    consequence=re.compile(
        r"\b(?:jail|prison|arrest\w*|lock(?:ed|s)? (?:me |him |her |us )?up|behind bars|su(?:e|ed|ing)|lawsuit|court|judge"
        r"|garnish\w*|wages?|credit (?:score|report|record|rating)|my credit(?! card)"
        r"|take (?:my|the) (?:house|home|car|truck|paycheck)|repossess\w*"
        r"|seize\w*|police|criminal|freeze|frozen|levy)\b"
    ),
    right_challenged=re.compile(
        r"\b(?:can|could|would) (?:you|they|anyone|anybody|the \w+) (?:even|still|legally|really|actually)\b"
        r"|\b(?:are|is|am) (?:they|you|we|i|it|anyone|anybody|the \w+) (?:even |legally |really |actually )?"
        r"(?:allowed|permitted|entitled) to\b"
        r"|\b(?:legal|legally able) to\b|\b(?:the |any )?right to\b|\bstatute\b"
    ),
    reported_speech=re.compile(
        r"^(?:(?:and|so|ok|okay|now|look|well|yeah|alright|right|i know|i hear|i heard|i get that|i understand)\s+)*"
        r"(?:you (?:just |already |literally )?(?:said|say|told me|told us|called (?:us|me|this|it|them|the company)|yelled|screamed"
        r"|mentioned)|i heard you (?:say|said|call)"
        # the listener's words put back to them ("so what you're saying is ...", "if i heard you right, ...")
        r"|(?:what )?(?:you.?re|you are|youre) (?:telling|saying to) (?:me|us)"
        r"|(?:what )?(?:you.?re|you are|youre) saying(?: is)?"
        r"|what i.?m hearing(?: is)?|(?:if|so) i (?:understand|heard) you (?:right|correctly))\b"
    ),
    # the report and its quotation go together: "your words were 'quit phoning me, I've had it.'"; a quotation
    # closes with its own kind of mark, not followed by a letter, so an apostrophe inside it ("I'm") does not end it
    quotation=re.compile(
        r"(?i)\b(?:you (?:just |already |literally )?(?:said|say|told me|told us|wrote|put it|yelled|screamed)"
        r"|(?:what|how) you (?:just )?(?:said|put it|told me|wrote)|quoting you|your (?:exact )?words(?: were)?"
        r"|in your (?:own )?words)(?:,? (?:and )?(?:i.?m|im|i am) quoting(?: you)?)?\s*[,:]?\s*"
        r"(?:'.{1,200}?'(?!\w)|\".{1,200}?\"|\u201c.{1,200}?\u201d|\u2018.{1,200}?\u2019(?!\w))"
    ),
    pressing_reads_clauses=True,
    small_talk_weight=2.0,
    support_percentile=1.0,
    callback_before=re.compile(
        r"\b(?:call|calls|calling|ring|contact|reach|follow up|followup|check in|touch base|talk|speak|get back)"
        r"(?: (?:with|to))?(?: (?:you|me|us|him|her))?(?: (?:back|again))?(?: (?:on|by|around|next|this|from))?\s*$"
    ),
    concedes_then_turns=re.compile(
        r"^(?:(?:ok|okay|alright|right|sure|yes|yeah|well|so|and)\s+)*(?:got it|understood|i understand|i hear you"
        r"|i get (?:it|that)|i see|fair enough|noted|that.?s fine|i know)\b(?:\s+\w+){0,6}?\s+but\b"
        # a bare yes, or the agent's promise to deal with the lawyer, and then a turn ("okay but you
        # dont really need a lawyer", "well reach out to them but honestly lawyers drag these things out")
        r"|^(?:ok|okay|alright|sure|fine)\s+but\b"
        r"|^(?:we|i)(?:ll| will)? (?:reach out|contact|call|get in touch|be in touch|talk)(?: to| with)? (?:them|him|her"
        r"|your (?:lawyer|attorney|counsel))(?:\s+\w+){0,3}?\s+but\b"
    ),
    negation=re.compile(
        r"\b(?:not|no|never|nobody|nobodys|no one|nothing|nothings|none|neither|won.?t|wont|isn.?t|aren.?t|wasn.?t|weren.?t|don.?t|dont"
        r"|doesn.?t|didn.?t|can.?t|cannot|shouldn.?t|wouldn.?t)\b"
    ),
    collection_pause=re.compile(
        r"\b(?:won.?t|wont|will not|not going to|no one|nobody|don.?t|dont|do not|no more|not|never|stop|cease)"
        r"(?: \w+){0,3}? (?:ask|asks|asked|asking|call|calls|called|calling|contact\w*|collect\w*|press\w*|pursu\w*"
        r"|bother\w*|chas\w*|demand\w*|reach\w*|hear from us)\b"
        r"|\b(?:on hold|a hold on|hold(?:s|ing)? off|pause\w*|suspend\w*|do not call|mark\w* (?:\w+ ){0,2}(?:as )?disputed)\b"
        # nothing asked while the dispute is looked into ("we ask for nothing while the claim is being investigated")
        r"|\b(?:no|nothing|none|not|never)\b(?: \w+){0,4}? while (?:it|its|it s|this|that|the (?:dispute|claim|account|case|debt))"
        r" (?:is )?(?:under (?:review|investigation)|being (?:reviewed|investigated|verified|looked into))\b"
        # the pause said of the collection itself ("collection on this account has stopped", "this will be the last call")
        r"|\b(?:collection|collections|collecting|calls|contact|activity)(?: on (?:this|the|your) (?:account|debt))?"
        r" (?:has |have |is |are |will |will be |gets |get )?(?:stopped|halted|ended|stops|ends|waits|will wait)\b"
        r"|\b(?:this|that) (?:will be|is) (?:the|our) last (?:call|time)\b"
    ),
    # a pause taken back or traded for money ("ive marked it disputed but we still need the payment today");
    # "after" bounds it in time ("no calls after today") unless something must happen first
    pause_veto=re.compile(
        r"\b(?:but|however|still|once|after(?! (?:today|tonight|this call|now)\b)|as soon as|can.?t|cannot|unable|(?:won.?t|wont|will not|doesn.?t|does not|didn.?t"
        r"|did not|not (?:going to )?)\s?stop)\b"
    ),
    emphatic_negation=re.compile(
        r"\b(?:no|not (?:much|any|a lot of)) (?:other )?(?:choice|option|options|way around (?:it|this)|more (?:chances|excuses|warnings)"
        r"|exceptions|joke|time to waste)\b|\b(?:not|no) (?:kidding|joking|playing (?:around|games)|asking|messing around)\b"
        r"|\bnothing (?:else )?(?:i|we) can do\b|\b(?:can.?t|cannot|won.?t|wont) (?:wait|hold (?:it|this|off))(?: any longer)?\b"
        r"|\bno longer\b|\bno later than\b|\b(?:or not|whether or not)\b"
        # negations that are the insult or the threat ("is nobody home up there", "youll never get a loan again")
        r"|\bnobody home\b|\bwhat kind of (?:\w+ ){1,2}(?:doesn.?t|does not|wouldn.?t|can.?t|won.?t)\b"
        r"|\b(?:won.?t|wont|will not|not going to|not gonna|isn.?t going to|isnt going to) (?:end|turn out|go) (?:well|good|nicely)\b"
        r"|\bnever (?:again )?(?:get|be able to get|qualify for|be approved for|rent|buy|lease|finance|own) (?:a |an |another |any )?"
        r"(?:\w+ )?(?:loan|credit|mortgage|card|apartment|house|home|car|lease)\b"
        # a list of nots that makes a threat bigger ("not a car not a house nothing ever")
        r"|\bnot (?:a|an|even a|one) \w+(?:,? not (?:a|an|even a|one) \w+)+(?:,? (?:nothing|not a thing|none of it))?(?:,? ever)?\b"
        r"|\bnothing,? ever\b"
        # the estate's lack, not the family's freedom ("there's no estate, so we'd expect the kids to step up")
        r"|\bno estate\b"
        # every lender shut ("no lender anywhere would ever approve you")
        r"|\bno (?:bank|lender|landlord|credit union)s?(?: in (?:the|this) (?:country|state|world))?(?: will| would)? ever (?:open|give|approve|lend|rent|finance)\w*\b"
        r"|\bno (?:court|judge|lawsuit|judgment|judgement)(?: order)? (?:needed|required|necessary)\b"
        r"|\b(?:don.?t|dont|do not|doesn.?t|doesnt|does not) (?:even )?need (?:a |any )?(?:court|judge|lawsuit|judgment|judgement)(?: order)?\b"
        r"|\b(?:nobody|no one) (?:has to|needs to) get hurt\b"
        # the next contact will not be a call ("and not by phone", "it won't be a call next time")
        r"|\b(?:won.?t|wont|will not|not going to|isn.?t going to) be (?:a |by )?(?:phone )?call\b"
        r"|\bnot (?:by|over the) phone\b"
        r"|\bnot (?:as|nearly as|so) (?:nice|friendly|patient) as\b|\b(?:won.?t|wont|don.?t|dont) want to (?:find out|see|know) what\b"
    ),
    insult_denial=re.compile(
        r"\b(?:not|never|nobody|no one|nobody.?s|isn.?t|aren.?t|wasn.?t|weren.?t|don.?t|dont|doesn.?t|didn.?t"
        r"|won.?t|wont|can.?t|cant|wouldn.?t|haven.?t|hasn.?t)(?: \w+){0,3}? "
        # calling someone something, not calling them on the phone ("we dont call you at work")
        r"(?:call(?:s|ing|ed)? you (?:(?:a|an) )?(?!(?:a|an|lot|second|third|again|back|later|today|tomorrow|tonight"
        r"|at|on|in|about|every|few|couple|bit|while|anymore|before|after|from|to|if|when|or|and)\b)\w+"
        # saying or thinking something of them ("nobody thinks youre a bad person"), not "i dont think you understand"
        r"|(?:say|says|saying|said|think|thinks|thought|believ\w*|assum\w*|suggest\w*|implying|mean|meant) (?:that )?"
        r"(?:you are|youre|you re|you were|you did|you meant|you tried|you want)\b"
        r"|(?:blam\w*|accus\w*|judg\w*|insult\w*|label\w*) (?:you|anyone|anybody)\b)"
    ),
    insult_denial_veto=re.compile(r"\b(?:but|however|though|although|yet|if|unless|or else|otherwise)\b"),
    debtor_negation=re.compile(
        r"\b(?:for|by|from|over|of) (?:not|never) (?:\w+ ){0,2}?(?:re)?(?:pay|paying|paid|payments?)\b"
        r"|\bnot (?:re)?paying\b|\bnot making (?:\w+ )?payments?\b"
        # "if it isnt paid we might have to let your employer know": unpaid, not a denial
        r"|\b(?:isn.?t|is not|aren.?t|are not|wasn.?t|was not|not|never|doesn.?t get|don.?t get)"
        r" (?:\w+ )?(?:re)?paid\b"
        r"|\b(?:no|not enough|insufficient) (?:money|funds|cash)\b"
        # the debtor out of reach: "you never answer", "you don't return calls"
        r"|\b(?:you|you.?re|youre|you are|he|she|he.?s|she.?s|they|they.?re) (?:\w+ )?"
        r"(?:never|not|don.?t|dont|doesn.?t|didn.?t|won.?t|wont|can.?t|refuse to)(?: even| ever)? "
        r"(?:home|around|reachable|answer\w*|pick(?:ing)? up|return\w*(?: (?:my|our|the|any) calls?)?"
        r"|call\w* (?:us |me )?back|respond\w*|repl\w*)\b"
    ),
    contrast=re.compile(r"\b(?:but|however|though|although)\b"),
    condition=re.compile(
        # "you asked if we can take your house": a question reported, not a condition
        r"\b(?<!asked )(?<!asking )(?<!ask )(?<!wondered )(?<!wondering )(?<!know )(?:if)\b"
        # "until" is a demand ("until you pay"), unless it names the lawful event a pause waits for
        r"|\b(?:unless|or else|otherwise|until(?! " + _PAUSE_ENDS + r")|before|or we|or you|or i|better)\b"
        # "pay today or your car goes", not a list of what is safe ("no one will take your car or your house")
        r"|\b(?!(?:your|the|his|her) " + _BELONGINGS + r" or (?:your|the|his|her) " + _BELONGINGS + r"\b)\w+ \w+ or (?:your|the)\b"
        r"|^\w+ or (?:your|the)\b"
        # "want" as in "if you want to play it that way", not the debtor's request said back ("so you want me
        # to not call anymore"); "you don't want me to stop by your work" stays a condition
        r"|\b(?:want(?! (?:(?:us|me) )?(?:to )?" + _CALLS_STOPPED + r")|wish|warn\w*|like it|pretty|escalat\w*"
        r"|next level|trouble|consequences|worse|coming back|mess around|nice|shoes)\b"
        # someone's not paying ("people who dont pay", "you wouldnt pay it back", "you never meant to pay
        # it back"), not the harm negated ("nobody is arrested for not paying" stays a reassurance)
        r"|\b(?:who|that|you|youd|you d|they|theyd|they d|people|folks|those) (?:\w+ )?(?:don.?t|dont|won.?t|wont|wouldn.?t|didn.?t|never|do not"
        r"|did not|will not|would not) (?:\w+ ){0,2}(?:pay|pays|paying|paid)\b"
        # a negated command ("dont make me come find you", "dont say nobody warned you"), not "dont worry"
        r"|\b(?:don.?t|dont) (?:you )?(?:make|test|push|dare|say|even|try|play|mess|ignore|tell me|get smart|get cute)\b"
        # a safety denied ("and dont imagine youre protected either"), not "i dont think you need to worry"
        r"|(?<!i )(?<!we )(?<!they )\b(?:don.?t|dont|do not) (?:you )?(?:think|imagine|believe|assume)"
        r" (?:that |for (?:a|one) (?:second|minute) )?(?:you.?re|youre|you are|you re|you.?ll|youll|you will)"
        r" (?:safe|off the hook|getting away|get away|protected|in the clear)\b"
    ),
    empathy=re.compile(
        r"\b(?:i (?:totally |completely |really |do )?(?:understand|get it|hear you|know (?:how|that feeling))"
        r"|(?:that|it) (?:sounds|must be) (?:hard|tough|rough|awful|stressful|exhausting)|sorry (?:to hear|for your loss)"
        r"|(?:that.?s|that is|what) a (?:tough|rough|hard) (?:spot|one|situation|break|time)|tough break"
        r"|congrat\w*|take care|no worries|no rush"
        # the agent's own apology ("im a bit slow on the keyboard today bear with me")
        r"|bear with me|my bad|my mistake|my fault|sorry (?:about that|for the wait|for the delay|for the confusion|for the hold)"
        r"|i (?:do )?apologi[sz]e|sorry (?:to bother|for (?:the|any) (?:bother|trouble|inconvenience)))\b"
    ),
    empathy_veto=re.compile(r"\b(?:but|however|though|if|unless|or else|otherwise|still have to|need you to)\b"),
    death=re.compile(r"\b(?:sorry (?:for|about) your loss|condolences|passed away|(?:his|her|their) passing|deceased|"
                     r"(?:his|her|the) estate|probate|executor|executrix|death certificate|(?:he|she) died)\b"),
    bereavement=re.compile(
        rf"\b(?:my|our) (?:{_KIN_ADJECTIVE} )?(?:{_KIN})s?\b(?: \w+){{0,3}}? "
        r"(?:(?:just|recently|suddenly|finally|has|had) )*(?:passed|died|is dead|was killed|is gone|gone)\b"
        rf"|\b(?:buried|bury|burying|lost|losing) (?:my|our) (?:{_KIN_ADJECTIVE} )?(?:{_KIN})\b"
        rf"|\bwe lost the baby\b|\b(?:my|our) (?:{_KIN})s? funeral\b|\bfuneral for my (?:{_KIN})\b"
    ),
    # the account, the estate, a question of who pays, the call for someone else
    death_of_the_borrower=re.compile(
        rf"\b(?:(?:his|her|their|(?:{_KIN})s) (?:accounts?|cards?|credit cards?|bills?|debts?|loans?|mortgage|balance"
        r"|payments|mail|phone|number|name|letters?|estate|affairs)"
        r"|(?:was|is|were) (?:his|hers|theirs)|in (?:his|her|their) name|estate|executor|executrix|probate"
        r"|personal representative|death certificate|obituary|next of kin|on the hook|liable|who pays"
        r"|responsible for (?:it|this|that|the (?:debt|bill|card|account|balance)|his|her|their|any)"
        r"|(?:had|has|opened|took out|owed|used) (?:that|the|this|those) (?:cards?|accounts?|loans?|debts?)"
        r"|have to pay (?:for )?(?:his|her|it|this|that)"
        r"|what happens to (?:the|his|her|their) (?:account|debt|card|loan|payments|bills)"
        r"|(?:you|youre|you are|yall|you guys|why are you|stop|keep) (?:calling|asking)"
        r" (?:for|about|a|here|him|her|this)"
        r"|(?:keep|kept) (?:finding|getting) (?:these|all these|his|her|the) (?:bills|letters|statements|notices)"
        r"|(?:looking|asking) for (?:him|her)|trying to reach (?:him|her)|your (?:letters?|records)"
        r"|update (?:your|the) records)\b"
    ),
    open_question=re.compile(
        r"(?:^|[,.;!?]\s*)(?:(?:so|and|ok|okay|alright|now|well|um|uh)\s+)*"
        r"(?:what(?!\s+(?:about|if)\b)|whats|why|how (?:much|many|come|long|often)|when|where|which|who)\b"
    ),
    payment_offer=re.compile(
        r"\b(?:could you|can you|would you|will you|how about|what about|we can|i can|we could|i could|let.?s"
        r"|(?:can|could|shall) we (?:do|set|put|get|schedule|split|try|make|start|agree|go with)"
        r"|set (?:you |it |that |this )?up|payments? of|agree|works? for you|does that work|plan|arrangement|schedule"
        r"|put you down|if you (?:pay|can pay|send|make)|settle|waive"
        # the agent taking up the debtor's figure puts it back to them ("okay two hundred works, ill put that down")
        r"|(?:hundred|thousand|\d|dollars|bucks|that|it) (?:works|is fine)|(?:i.?ll|i will|let me) put (?:that|it|you) (?:down|in)"
        r"|i.?ll (?:set|schedule) (?:that|it) up)\b"
    ),
    # what a payment offer is about: without these, "could you call us back on monday" offers nothing
    payment_term=re.compile(
        r"\b(?:pay|pays|payment|payments|installments?|dollars?|bucks|settle\w*|down payment|plan"
        r"|(?:a|per|each|every) (?:month|week|paycheck|pay ?day|two weeks)|monthly|weekly|biweekly)\b|\$\s?\d"
    ),
    callback=re.compile(r"\b(?:call (?:you |us |me )?back|talk again|reach (?:you|us)|call again|follow up)\b"),
    # an offer of options, asked (no "payments" alone as the object: "can i explain why you still
    # have to make payments" is no offer)
    permission_question=re.compile(
        r"\b(?:(?:would|do|did) you (?:want|like|wanna)|you (?:want|wanna)|want me|would it (?:help|be (?:helpful|useful))"
        r"|any interest|(?:are|would) you (?:be )?(?:open|interested)|interested in|is it (?:ok|okay|alright|all right) if"
        r"|can i|could i|may i|shall i)\b(?: \w+){0,6}? "
        r"(?:hear|go (?:over|through)|going (?:over|through)|walk (?:you )?through|explain|tell you|talk|discuss|look|run (?:you )?through"
        r"|share|lay out|review|learn)\b(?: \w+){0,8}? (?:options?|plans?|programs?|choices|arrangements?"
        r"|what we (?:can|could) (?:do|offer)|how (?:\w+ ){0,2}(?:would|could|will|might) work)\b"
    ),
    wait_offer=re.compile(
        r"\bor (?:would you |do you |you.?d |we can |you can |you could |should we |is it better (?:for you )?to )?"
        r"(?:rather |prefer to |want to |just )?(?:wait|hold off)\b"
        r"|\bor (?:after|once|when) you(?:.?ve| have)? (?:seen|got|gotten|received|looked at|read|checked)\b"
        r"|\bor nah$|\bor (?:are )?you good\b|\b(?:up to you|your call|whenever you.?re ready|no pressure)\b"
        r"|\bor (?:we |i )?leave (?:it|that) (?:until|till|for)\b|\bwhat(?:ever)? (?:do )?you prefer\b"
        r"|\b(?:either|both) (?:one |way )?(?:is|are|works) (?:completely |totally |perfectly )?(?:fine|ok|okay)\b"
    ),
    # said near the start of a short reply (``LanguagePack.consents``)
    consent=re.compile(
        r"^(?:(?:um|uh|well|oh|i mean|so|hmm)\s+)*(?:tell me|go ahead|go on|sure|ok|okay|fine|alright|all right|let.?s hear"
        r"|let me hear|i.?m listening|shoot|what are (?:they|the options|my options)$|what (?:do|can) you (?:have|offer)"
        r"|i guess|i suppose|might as well|please do|yes|yeah|yep|yup)\b"
    ),
    consent_veto=re.compile(
        r"\b(?:no|nope|nah|not|don.?t|dont|wait|later|rather not|pass|hold off|stop|won.?t|wont|never|refuse|why"
        r"|dispute|wrong|owe|charg\w*|fees?|mine|prove|proof)\b"
    ),
    payment_request=re.compile(
        r"(?<!how )(?<!why )\b(?:can|could|may) i (?:just |still |maybe |at least )?(?:pay|make (?:a |some )?payments?"
        r"|set up (?:a )?(?:plan|payments?)|do (?:a )?(?:payment plan|plan|installments?))\b"
        r"|\b(?:is there|are there|do you (?:guys )?(?:have|offer)) (?:a |any |some )?(?:payment plans?"
        r"|hardship (?:plans?|programs?)|installments?)\b"
    ),
    # what makes asking how to pay part of the dispute ("so how exactly would i pay something i dont owe")
    payment_request_veto=re.compile(
        r"\bhow\W+(?:\w+\W+){0,3}?(?:can|could|would|should|am)\b|\b(?:never|isn.?t mine|not mine|don.?t owe|dont owe"
        r"|didn.?t (?:buy|open|sign|take)|dispute|twice|prove|why)\b"
    ),
    contact_place=re.compile(r"\b(?:call(?:ing)?|ring(?:ing)?|phon(?:e|ing))(?: me)?(?: at| on| to)? (?:my |the )?"
                             r"(?:work|job|office|workplace|employer|work (?:phone|number)|cell at work)\b"),
    proposal_acceptance=re.compile(
        r"\b(?:i agree to (?:that|those|this|it|the)|agreed|go ahead and (?:schedule|set|book|run|process|charge|put|take|do)"
        r"|sign me up|put me down|set (?:it|that|me|them) up|schedule (?:it|that|them)|book (?:it|that)|lock (?:it|that) in"
        r"|let.?s do (?:it|that|this|those)|lets do|that works|works for me|doable|i can do (?:that|it|those)"
        r"|that (?:i|we) can do|that.?ll work|that will work|that.?s fine|that is fine|i.?ll do (?:that|it)"
        r"|i can swing (?:that|it)|i can manage (?:that|it)|it.?s a deal|count me in|sounds good|fair enough)\b"
        r"|^(?:ok |okay )?deal$"
    ),
    # what turns taking-up words into their opposite ("no deal", "that isnt doable", "go ahead and sue me")
    acceptance_veto=re.compile(r"\b(?:no(?! problem| worries)|nope|isn.?t|isnt|ain.?t|sue|court|lawyer|report"
                               r"|complain\w*|later|think about|impossible|too (?:much|high|steep|soon|early)"
                               r"|ridiculous|crazy|a joke|kidding|yeah right|a lot|but|only make|cant|can.?t|wont"
                               r"|won.?t)\b"),
    assent=re.compile(r"\b(?:ok|okay|alright|all right|sure|yes|yeah|yep|yup|fine|works|deal|good|great|perfect"
                      r"|lets do|no problem)\b"),
    commitment_veto=re.compile(
        r"\b(?:can.?t|cannot|can not|won.?t|will not|wont|don.?t|dont|not|no way|never|unable|nothing|only if|if i|maybe|might"
        r"|already paid|already sent|i paid|phone number|my cell|reach me|social security)\b"
    ),
)
