//! The message catalogue: every text a resident or an operator reads from
//! the gateway (menu items, option labels, refusal reasons, problem
//! `detail`s), each in all twelve copier languages. Certificates themselves
//! are printed in Japanese only.
//!
//! Rule: an entry names every language (a missing one does not compile),
//! and the tests below refuse an empty text or an English one left in
//! another language's place. Japanese is the authoritative wording.

use super::Text;

/// Declares the entries, each `NAME { ja: "…", en: "…", … }` with the
/// languages in [`super::Lang`]'s order, and [`ALL`] listing them.
macro_rules! catalogue {
    ($(
        $(#[$meta:meta])*
        $name:ident {
            ja: $ja:literal,
            en: $en:literal,
            zh_hans: $zh_hans:literal,
            zh_hant: $zh_hant:literal,
            ko: $ko:literal,
            es: $es:literal,
            pt: $pt:literal,
            vi: $vi:literal,
            tl: $tl:literal,
            ne: $ne:literal,
            id: $id:literal,
            th: $th:literal $(,)?
        }
    )*) => {
        $(
            $(#[$meta])*
            pub const $name: Text = Text::new([
                $ja, $en, $zh_hans, $zh_hant, $ko, $es, $pt, $vi, $tl, $ne, $id, $th,
            ]);
        )*

        /// Every entry with its name, for the completeness tests.
        pub const ALL: &[(&str, &Text)] = &[$((stringify!($name), &$name)),*];
    };
}

catalogue! {
    // The menu: certificate kinds, options, and why an item is unavailable.
    KIND_RESIDENCE_CERTIFICATE {
        ja: "住民票の写し",
        en: "Certificate of residence",
        zh_hans: "住民票副本",
        zh_hant: "住民票副本",
        ko: "주민표 사본",
        es: "Certificado de residencia",
        pt: "Certificado de residência",
        vi: "Bản sao phiếu cư trú",
        tl: "Sertipiko ng paninirahan",
        ne: "बसोबास प्रमाणपत्र",
        id: "Surat keterangan tempat tinggal",
        th: "หนังสือรับรองถิ่นที่อยู่",
    }
    KIND_SEAL_REGISTRATION {
        ja: "印鑑登録証明書",
        en: "Seal registration certificate",
        zh_hans: "印章登记证明书",
        zh_hant: "印章登記證明書",
        ko: "인감등록증명서",
        es: "Certificado de registro de sello",
        pt: "Certificado de registro de carimbo",
        vi: "Giấy chứng nhận đăng ký con dấu",
        tl: "Sertipiko ng pagpaparehistro ng selyo",
        ne: "छाप दर्ता प्रमाणपत्र",
        id: "Surat keterangan registrasi stempel",
        th: "หนังสือรับรองการจดทะเบียนตราประทับ",
    }
    KIND_TAX_CERTIFICATE {
        ja: "課税・所得証明書",
        en: "Tax and income certificate",
        zh_hans: "课税・所得证明书",
        zh_hant: "課稅・所得證明書",
        ko: "과세・소득증명서",
        es: "Certificado de impuestos e ingresos",
        pt: "Certificado de impostos e rendimentos",
        vi: "Giấy chứng nhận thuế và thu nhập",
        tl: "Sertipiko ng buwis at kita",
        ne: "कर तथा आय प्रमाणपत्र",
        id: "Surat keterangan pajak dan penghasilan",
        th: "หนังสือรับรองภาษีและรายได้",
    }
    OPTION_WHOLE_HOUSEHOLD {
        ja: "世帯全員",
        en: "Whole household",
        zh_hans: "全体家庭成员",
        zh_hant: "全體家庭成員",
        ko: "세대 전원",
        es: "Todo el hogar",
        pt: "Todo o domicílio",
        vi: "Toàn bộ thành viên hộ gia đình",
        tl: "Buong sambahayan",
        ne: "घरपरिवारका सबै सदस्य",
        id: "Seluruh anggota rumah tangga",
        th: "สมาชิกทุกคนในครัวเรือน",
    }
    OPTION_SHOW_HOUSEHOLDER {
        ja: "世帯主・続柄",
        en: "Householder and relationship",
        zh_hans: "户主・关系",
        zh_hant: "戶主・關係",
        ko: "세대주・관계",
        es: "Cabeza de hogar y parentesco",
        pt: "Chefe do domicílio e parentesco",
        vi: "Chủ hộ và quan hệ với chủ hộ",
        tl: "Puno ng sambahayan at relasyon",
        ne: "घरमूली र नाता",
        id: "Kepala rumah tangga dan hubungan keluarga",
        th: "หัวหน้าครัวเรือนและความสัมพันธ์",
    }
    OPTION_SHOW_DOMICILE {
        ja: "本籍・筆頭者",
        en: "Registered domicile and head",
        zh_hans: "本籍・户籍首位者",
        zh_hant: "本籍・戶籍首位者",
        ko: "본적・필두자",
        es: "Domicilio registral y titular",
        pt: "Domicílio registral e titular",
        vi: "Nơi đăng ký hộ tịch và chủ hộ tịch",
        tl: "Rehistradong domisilyo at puno ng rehistro",
        ne: "दर्ता गरिएको स्थायी ठेगाना र दर्ताको मुख्य व्यक्ति",
        id: "Domisili terdaftar dan kepala daftar keluarga",
        th: "ภูมิลำเนาตามทะเบียนและหัวหน้าทะเบียนครอบครัว",
    }
    OPTION_SHOW_MY_NUMBER {
        ja: "個人番号",
        en: "My Number",
        zh_hans: "个人编号",
        zh_hant: "個人編號",
        ko: "개인번호",
        es: "Número personal (My Number)",
        pt: "Número pessoal (My Number)",
        vi: "Mã số cá nhân (My Number)",
        tl: "Personal na numero (My Number)",
        ne: "व्यक्तिगत नम्बर (My Number)",
        id: "Nomor Individu (My Number)",
        th: "หมายเลขประจำตัว (My Number)",
    }
    /// Certificate of selected items in the residence record
    KIND_RESIDENCE_RECORD {
        ja: "住民票記載事項証明書",
        en: "Certificate of residence record items",
        zh_hans: "住民票记载事项证明书",
        zh_hant: "住民票記載事項證明書",
        ko: "주민표 기재사항 증명서",
        es: "Certificado de datos del registro de residencia",
        pt: "Certificado de itens do registro de residência",
        vi: "Giấy chứng nhận nội dung phiếu cư trú",
        tl: "Sertipiko ng mga detalye ng rekord ng paninirahan",
        ne: "बसोबास अभिलेख विवरण प्रमाणपत्र",
        id: "Surat keterangan isi catatan kependudukan",
        th: "หนังสือรับรองรายการในทะเบียนผู้พักอาศัย",
    }
    /// Certificate of all matters in the family register (full copy)
    KIND_FAMILY_REGISTER_FULL {
        ja: "戸籍全部事項証明書（戸籍謄本）",
        en: "Family register certificate (full copy)",
        zh_hans: "户籍全部事项证明书（户籍誊本）",
        zh_hant: "戶籍全部事項證明書（戶籍謄本）",
        ko: "호적 전부사항 증명서(호적등본)",
        es: "Certificado del registro familiar (copia íntegra)",
        pt: "Certificado do registro familiar (cópia integral)",
        vi: "Giấy chứng nhận toàn bộ hộ tịch (bản sao đầy đủ)",
        tl: "Sertipiko ng rehistro ng pamilya (buong kopya)",
        ne: "पारिवारिक दर्ता प्रमाणपत्र (पूर्ण प्रतिलिपि)",
        id: "Surat keterangan daftar keluarga (salinan lengkap)",
        th: "หนังสือรับรองทะเบียนครอบครัว (ฉบับเต็ม)",
    }
    /// Certificate of one person's matters in the family register (extract)
    KIND_FAMILY_REGISTER_INDIVIDUAL {
        ja: "戸籍個人事項証明書（戸籍抄本）",
        en: "Family register certificate (individual extract)",
        zh_hans: "户籍个人事项证明书（户籍抄本）",
        zh_hant: "戶籍個人事項證明書（戶籍抄本）",
        ko: "호적 개인사항 증명서(호적초본)",
        es: "Certificado del registro familiar (extracto individual)",
        pt: "Certificado do registro familiar (extrato individual)",
        vi: "Giấy chứng nhận hộ tịch cá nhân (bản trích lục)",
        tl: "Sertipiko ng rehistro ng pamilya (indibidwal na sipi)",
        ne: "पारिवारिक दर्ता प्रमाणपत्र (व्यक्तिगत उद्धरण)",
        id: "Surat keterangan daftar keluarga (kutipan perorangan)",
        th: "หนังสือรับรองทะเบียนครอบครัว (เฉพาะบุคคล)",
    }
    /// Copy of the family register's address supplement (address history)
    KIND_FAMILY_REGISTER_ADDRESSES {
        ja: "戸籍の附票の写し",
        en: "Copy of family register address record",
        zh_hans: "户籍附票副本",
        zh_hant: "戶籍附票副本",
        ko: "호적 부표 사본",
        es: "Copia del anexo de domicilios del registro familiar",
        pt: "Cópia do anexo de endereços do registro familiar",
        vi: "Bản sao phụ lục địa chỉ hộ tịch",
        tl: "Kopya ng talaan ng mga tirahan sa rehistro ng pamilya",
        ne: "पारिवारिक दर्ताको ठेगाना अभिलेखको प्रतिलिपि",
        id: "Salinan lampiran alamat daftar keluarga",
        th: "สำเนาเอกสารแนบที่อยู่ของทะเบียนครอบครัว",
    }
    /// Former surname
    OPTION_SHOW_FORMER_SURNAME {
        ja: "旧氏",
        en: "Former surname",
        zh_hans: "旧姓",
        zh_hant: "舊姓",
        ko: "이전 성씨",
        es: "Apellido anterior",
        pt: "Sobrenome anterior",
        vi: "Họ cũ",
        tl: "Dating apelyido",
        ne: "पहिलेको थर",
        id: "Nama keluarga sebelumnya",
        th: "นามสกุลเดิม",
    }
    /// Nationality/region, status of residence and related fields
    OPTION_SHOW_FOREIGN_RESIDENT_FIELDS {
        ja: "国籍・地域、在留資格等",
        en: "Nationality/region, residence status, etc.",
        zh_hans: "国籍・地区、在留资格等",
        zh_hant: "國籍・地區、在留資格等",
        ko: "국적・지역, 체류자격 등",
        es: "Nacionalidad/región, estatus de residencia, etc.",
        pt: "Nacionalidade/região, status de residência etc.",
        vi: "Quốc tịch/khu vực, tư cách lưu trú, v.v.",
        tl: "Nasyonalidad/rehiyon, katayuan ng paninirahan, atbp.",
        ne: "राष्ट्रियता/क्षेत्र, बसोबास स्थिति आदि",
        id: "Kewarganegaraan/wilayah, status izin tinggal, dll.",
        th: "สัญชาติ/ภูมิภาค สถานภาพการพำนัก ฯลฯ",
    }
    /// Household members to list, by number within the household
    OPTION_MEMBERS {
        ja: "記載する世帯員（世帯の中の番号）",
        en: "Household members to include (number in household)",
        zh_hans: "要记载的户内成员（户内编号）",
        zh_hant: "要記載的戶內成員（戶內編號）",
        ko: "기재할 세대원(세대 내 번호)",
        es: "Miembros del hogar a incluir (n.º en el hogar)",
        pt: "Membros do domicílio a incluir (nº no domicílio)",
        vi: "Thành viên hộ cần ghi (số thứ tự trong hộ)",
        tl: "Mga miyembro ng sambahayan na isasama (numero sa sambahayan)",
        ne: "समावेश गर्ने घरपरिवारका सदस्य (घरपरिवारभित्रको क्रमसंख्या)",
        id: "Anggota rumah tangga yang dicantumkan (nomor dalam rumah tangga)",
        th: "สมาชิกครัวเรือนที่จะระบุ (ลำดับในครัวเรือน)",
    }
    /// Date of birth
    OPTION_SHOW_BIRTH_DATE {
        ja: "生年月日",
        en: "Date of birth",
        zh_hans: "出生日期",
        zh_hant: "出生日期",
        ko: "생년월일",
        es: "Fecha de nacimiento",
        pt: "Data de nascimento",
        vi: "Ngày sinh",
        tl: "Petsa ng kapanganakan",
        ne: "जन्म मिति",
        id: "Tanggal lahir",
        th: "วันเดือนปีเกิด",
    }
    /// Sex
    OPTION_SHOW_SEX {
        ja: "性別",
        en: "Sex",
        zh_hans: "性别",
        zh_hant: "性別",
        ko: "성별",
        es: "Sexo",
        pt: "Sexo",
        vi: "Giới tính",
        tl: "Kasarian",
        ne: "लिङ्ग",
        id: "Jenis kelamin",
        th: "เพศ",
    }
    /// Address
    OPTION_SHOW_ADDRESS {
        ja: "住所",
        en: "Address",
        zh_hans: "住址",
        zh_hant: "住址",
        ko: "주소",
        es: "Domicilio",
        pt: "Endereço",
        vi: "Địa chỉ",
        tl: "Tirahan",
        ne: "ठेगाना",
        id: "Alamat",
        th: "ที่อยู่",
    }
    /// Date the person became a resident
    OPTION_SHOW_BECAME_RESIDENT_ON {
        ja: "住民となった年月日",
        en: "Date of becoming a resident",
        zh_hans: "成为居民的日期",
        zh_hant: "成為居民的日期",
        ko: "주민이 된 날짜",
        es: "Fecha de alta como residente",
        pt: "Data em que se tornou residente",
        vi: "Ngày trở thành cư dân",
        tl: "Petsa ng pagiging residente",
        ne: "बासिन्दा भएको मिति",
        id: "Tanggal menjadi penduduk",
        th: "วันที่เป็นผู้พักอาศัย",
    }
    /// Fiscal year of the tax assessment
    OPTION_FISCAL_YEAR {
        ja: "年度",
        en: "Fiscal year",
        zh_hans: "年度",
        zh_hant: "年度",
        ko: "연도",
        es: "Año fiscal",
        pt: "Ano fiscal",
        vi: "Năm tài chính",
        tl: "Taong piskal",
        ne: "आर्थिक वर्ष",
        id: "Tahun fiskal",
        th: "ปีงบประมาณ",
    }
    /// Person to certify, by position in the family register
    OPTION_POSITION {
        ja: "証明を受ける人（戸籍の中の順番）",
        en: "Person to certify (order in family register)",
        zh_hans: "证明对象（户籍中的顺序）",
        zh_hant: "證明對象（戶籍中的順序）",
        ko: "증명 대상자(호적 내 순번)",
        es: "Persona a certificar (orden en el registro familiar)",
        pt: "Pessoa a certificar (ordem no registro familiar)",
        vi: "Người được chứng nhận (thứ tự trong hộ tịch)",
        tl: "Taong papatunayan (pagkakasunod sa rehistro ng pamilya)",
        ne: "प्रमाणित गरिने व्यक्ति (पारिवारिक दर्तामा क्रम)",
        id: "Orang yang disertifikasi (urutan dalam daftar keluarga)",
        th: "ผู้ขอรับการรับรอง (ลำดับในทะเบียนครอบครัว)",
    }
    REASON_KIND_NOT_OFFERED {
        ja: "この証明書はまだこのサービスで交付していません。",
        en: "This certificate is not yet offered by this service.",
        zh_hans: "本服务尚不提供此证明书。",
        zh_hant: "本服務尚不提供此證明書。",
        ko: "이 증명서는 아직 이 서비스에서 발급하지 않습니다.",
        es: "Este servicio aún no ofrece este certificado.",
        pt: "Este serviço ainda não oferece este certificado.",
        vi: "Dịch vụ này chưa cung cấp giấy chứng nhận này.",
        tl: "Hindi pa iniaalok ng serbisyong ito ang sertipikong ito.",
        ne: "यो सेवाले यो प्रमाणपत्र अझै जारी गर्दैन।",
        id: "Surat keterangan ini belum disediakan oleh layanan ini.",
        th: "บริการนี้ยังไม่เปิดให้ขอหนังสือรับรองนี้",
    }

    // Why a resident may not get a certificate at a store: the menu's reason
    // and the order's refusal say the same.
    /// moved_out
    MOVED_OUT {
        ja: "転出された方の証明書はコンビニでは交付できません。転出先の市区町村にお問い合わせください。",
        en: "Certificates cannot be issued at a store for a resident who has moved out. Please contact the municipality you moved to.",
        zh_hans: "已迁出者的证明书无法在便利店开具。请向迁入地的市区町村咨询。",
        zh_hant: "已遷出者的證明書無法在便利商店核發。請洽詢遷入地的市區町村。",
        ko: "전출하신 분의 증명서는 편의점에서 발급할 수 없습니다. 이사하신 곳의 시구정촌에 문의해 주십시오.",
        es: "No se pueden emitir en la tienda de conveniencia certificados de personas que se han mudado a otro municipio. Consulte con la municipalidad de su nuevo domicilio.",
        pt: "Não é possível emitir na loja de conveniência certificados de pessoas que se mudaram para outro município. Entre em contato com a prefeitura do novo município de residência.",
        vi: "Không thể cấp giấy chứng nhận của người đã chuyển đi tại cửa hàng tiện lợi. Vui lòng liên hệ cơ quan hành chính thành phố/quận/thị trấn/làng nơi đã chuyển đến.",
        tl: "Hindi maaaring mag-isyu sa convenience store ng sertipiko ng taong lumipat na sa ibang munisipyo. Mangyaring makipag-ugnayan sa munisipyo ng lugar na nilipatan.",
        ne: "अन्यत्र बसाइँ सर्नुभएको व्यक्तिको प्रमाणपत्र कन्भिनियन्स स्टोरमा जारी गर्न सकिँदैन। कृपया नयाँ ठेगानाको नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan untuk orang yang telah pindah ke luar daerah tidak dapat diterbitkan di minimarket. Silakan hubungi kantor pemerintah daerah tempat tujuan pindah.",
        th: "ไม่สามารถออกหนังสือรับรองของผู้ที่ย้ายออกแล้วที่ร้านสะดวกซื้อได้ กรุณาติดต่อสำนักงานเทศบาลของพื้นที่ที่ย้ายไป",
    }
    /// moving_out: a 転出届 is filed (also for a household certificate showing them).
    MOVING_OUT {
        ja: "転出の届出をされた方（またはその方が記載される世帯の証明書）はコンビニでは交付できません。市区町村の窓口にお問い合わせください。",
        en: "Certificates cannot be issued at a store after a move-out has been filed, for the resident or a household certificate that would show them. Please contact the municipal office.",
        zh_hans: "已办理迁出申报者的证明书（或记载有该人员的家庭证明书）无法在便利店开具。请向市区町村窗口咨询。",
        zh_hant: "已辦理遷出申報者的證明書（或記載該人員的家戶證明書）無法在便利商店核發。請洽詢市區町村窗口。",
        ko: "전출 신고를 하신 분의 증명서(또는 그분이 기재된 세대의 증명서)는 편의점에서 발급할 수 없습니다. 시구정촌 창구에 문의해 주십시오.",
        es: "No se pueden emitir en la tienda de conveniencia certificados de personas que han presentado la notificación de traslado a otro municipio (ni certificados del hogar en los que figuren). Consulte en la ventanilla de la municipalidad.",
        pt: "Não é possível emitir na loja de conveniência certificados de pessoas que fizeram a notificação de mudança para outro município (nem certificados da unidade familiar em que elas constem). Entre em contato com a prefeitura.",
        vi: "Không thể cấp tại cửa hàng tiện lợi giấy chứng nhận của người đã nộp thông báo chuyển đi (hoặc giấy chứng nhận của hộ gia đình có ghi tên người đó). Vui lòng liên hệ quầy của cơ quan hành chính thành phố/quận/thị trấn/làng.",
        tl: "Hindi maaaring mag-isyu sa convenience store ng sertipiko ng taong nakapagsumite na ng abiso ng paglipat sa ibang munisipyo (o ng sertipiko ng sambahayang kinatatalaan niya). Mangyaring makipag-ugnayan sa tanggapan ng munisipyo.",
        ne: "अन्यत्र बसाइँ सर्ने सूचना दिनुभएको व्यक्तिको प्रमाणपत्र (वा उहाँको नाम समावेश भएको परिवारको प्रमाणपत्र) कन्भिनियन्स स्टोरमा जारी गर्न सकिँदैन। कृपया नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan untuk orang yang telah mengajukan pemberitahuan pindah ke luar daerah (atau surat keterangan rumah tangga yang mencantumkan orang tersebut) tidak dapat diterbitkan di minimarket. Silakan hubungi loket kantor pemerintah daerah setempat.",
        th: "ไม่สามารถออกหนังสือรับรองของผู้ที่แจ้งย้ายออกแล้ว (หรือหนังสือรับรองของครัวเรือนที่มีชื่อผู้นั้นอยู่) ที่ร้านสะดวกซื้อได้ กรุณาติดต่อที่สำนักงานเทศบาล",
    }
    /// deceased
    DECEASED {
        ja: "亡くなられた方の証明書はコンビニでは交付できません。市区町村の窓口にお問い合わせください。",
        en: "Certificates cannot be issued at a store for a deceased resident. Please contact the municipal office.",
        zh_hans: "已故者的证明书无法在便利店开具。请向市区町村窗口咨询。",
        zh_hant: "已故者的證明書無法在便利商店核發。請洽詢市區町村窗口。",
        ko: "사망하신 분의 증명서는 편의점에서 발급할 수 없습니다. 시구정촌 창구에 문의해 주십시오.",
        es: "No se pueden emitir en la tienda de conveniencia certificados de personas fallecidas. Consulte en la ventanilla de la municipalidad.",
        pt: "Não é possível emitir na loja de conveniência certificados de pessoas falecidas. Entre em contato com a prefeitura.",
        vi: "Không thể cấp giấy chứng nhận của người đã qua đời tại cửa hàng tiện lợi. Vui lòng liên hệ quầy của cơ quan hành chính thành phố/quận/thị trấn/làng.",
        tl: "Hindi maaaring mag-isyu sa convenience store ng sertipiko ng taong pumanaw na. Mangyaring makipag-ugnayan sa tanggapan ng munisipyo.",
        ne: "निधन भएका व्यक्तिको प्रमाणपत्र कन्भिनियन्स स्टोरमा जारी गर्न सकिँदैन। कृपया नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan untuk orang yang telah meninggal dunia tidak dapat diterbitkan di minimarket. Silakan hubungi loket kantor pemerintah daerah setempat.",
        th: "ไม่สามารถออกหนังสือรับรองของผู้ที่เสียชีวิตแล้วที่ร้านสะดวกซื้อได้ กรุณาติดต่อที่สำนักงานเทศบาล",
    }
    /// protected (支援措置): says no reason, on purpose.
    PROTECTED {
        ja: "この証明書はコンビニでは交付できません。市区町村の窓口にお問い合わせください。",
        en: "This certificate cannot be issued at a store. Please contact the municipal office.",
        zh_hans: "此证明书无法在便利店开具。请向市区町村窗口咨询。",
        zh_hant: "此證明書無法在便利商店核發。請洽詢市區町村窗口。",
        ko: "이 증명서는 편의점에서 발급할 수 없습니다. 시구정촌 창구에 문의해 주십시오.",
        es: "Este certificado no se puede emitir en la tienda de conveniencia. Consulte en la ventanilla de la municipalidad.",
        pt: "Este certificado não pode ser emitido na loja de conveniência. Entre em contato com a prefeitura.",
        vi: "Không thể cấp giấy chứng nhận này tại cửa hàng tiện lợi. Vui lòng liên hệ quầy của cơ quan hành chính thành phố/quận/thị trấn/làng.",
        tl: "Hindi maaaring i-isyu sa convenience store ang sertipikong ito. Mangyaring makipag-ugnayan sa tanggapan ng munisipyo.",
        ne: "यो प्रमाणपत्र कन्भिनियन्स स्टोरमा जारी गर्न सकिँदैन। कृपया नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan ini tidak dapat diterbitkan di minimarket. Silakan hubungi loket kantor pemerintah daerah setempat.",
        th: "ไม่สามารถออกหนังสือรับรองนี้ที่ร้านสะดวกซื้อได้ กรุณาติดต่อที่สำนักงานเทศบาล",
    }
    /// moved_in_today
    MOVED_IN_TODAY {
        ja: "転入の届出をされた当日はコンビニで証明書を交付できません。明日以降にご利用ください。",
        en: "Certificates cannot be issued at a store on the day a move-in is registered. Please use the service from tomorrow.",
        zh_hans: "办理迁入申报的当天无法在便利店开具证明书。请于明天以后使用。",
        zh_hant: "辦理遷入申報當天無法在便利商店核發證明書。請於明天以後再使用。",
        ko: "전입 신고를 하신 당일에는 편의점에서 증명서를 발급할 수 없습니다. 내일 이후에 이용해 주십시오.",
        es: "No se pueden emitir certificados en la tienda de conveniencia el mismo día en que se presentó la notificación de traslado al municipio. Utilice el servicio a partir de mañana.",
        pt: "Não é possível emitir certificados na loja de conveniência no mesmo dia em que foi feita a notificação de mudança para o município. Utilize o serviço a partir de amanhã.",
        vi: "Không thể cấp giấy chứng nhận tại cửa hàng tiện lợi trong ngày nộp thông báo chuyển đến. Vui lòng sử dụng dịch vụ từ ngày mai trở đi.",
        tl: "Hindi maaaring mag-isyu ng sertipiko sa convenience store sa mismong araw ng pagsumite ng abiso ng paglipat papasok sa munisipyo. Mangyaring gamitin ang serbisyo simula bukas.",
        ne: "बसाइँ सरेर आएको सूचना दिनुभएकै दिन कन्भिनियन्स स्टोरमा प्रमाणपत्र जारी गर्न सकिँदैन। कृपया भोलिदेखि प्रयोग गर्नुहोस्।",
        id: "Surat keterangan tidak dapat diterbitkan di minimarket pada hari yang sama dengan pengajuan pemberitahuan pindah masuk. Silakan gunakan layanan ini mulai besok.",
        th: "ไม่สามารถออกหนังสือรับรองที่ร้านสะดวกซื้อได้ในวันที่แจ้งย้ายเข้า กรุณาใช้บริการตั้งแต่วันพรุ่งนี้เป็นต้นไป",
    }
    /// card_issued_today
    CARD_ISSUED_TODAY {
        ja: "カードの電子証明書が発行された当日はコンビニで証明書を交付できません。明日以降にご利用ください。",
        en: "Certificates cannot be issued at a store on the day the card's certificate was issued. Please use the service from tomorrow.",
        zh_hans: "卡片电子证明书发行当天无法在便利店开具证明书。请于明天以后使用。",
        zh_hant: "卡片電子憑證發行當天無法在便利商店核發證明書。請於明天以後再使用。",
        ko: "카드의 전자증명서가 발급된 당일에는 편의점에서 증명서를 발급할 수 없습니다. 내일 이후에 이용해 주십시오.",
        es: "No se pueden emitir certificados en la tienda de conveniencia el mismo día en que se emitió el certificado electrónico de la tarjeta. Utilice el servicio a partir de mañana.",
        pt: "Não é possível emitir certificados na loja de conveniência no mesmo dia em que o certificado eletrônico do cartão foi emitido. Utilize o serviço a partir de amanhã.",
        vi: "Không thể cấp giấy chứng nhận tại cửa hàng tiện lợi trong ngày chứng thư điện tử của thẻ được cấp. Vui lòng sử dụng dịch vụ từ ngày mai trở đi.",
        tl: "Hindi maaaring mag-isyu ng sertipiko sa convenience store sa mismong araw na inisyu ang elektronikong sertipiko ng kard. Mangyaring gamitin ang serbisyo simula bukas.",
        ne: "कार्डको इलेक्ट्रोनिक प्रमाणपत्र जारी भएकै दिन कन्भिनियन्स स्टोरमा प्रमाणपत्र जारी गर्न सकिँदैन। कृपया भोलिदेखि प्रयोग गर्नुहोस्।",
        id: "Surat keterangan tidak dapat diterbitkan di minimarket pada hari yang sama dengan penerbitan sertifikat elektronik kartu. Silakan gunakan layanan ini mulai besok.",
        th: "ไม่สามารถออกหนังสือรับรองที่ร้านสะดวกซื้อได้ในวันที่ออกใบรับรองอิเล็กทรอนิกส์ของบัตร กรุณาใช้บริการตั้งแต่วันพรุ่งนี้เป็นต้นไป",
    }

    /// name_not_printable: a character the certificate font cannot draw.
    NAME_NOT_PRINTABLE {
        ja: "お名前などに、コンビニでは印刷できない文字が含まれています。市区町村の窓口で交付を受けてください。",
        en: "Your name or another item contains a character that cannot be printed at a store. Please get the certificate at the municipal office.",
        zh_hans: "您的姓名等信息中含有便利店无法打印的文字。请到市区町村窗口领取证明书。",
        zh_hant: "您的姓名等資料中含有便利商店無法列印的文字。請至市區町村窗口領取證明書。",
        ko: "성명 등에 편의점에서 인쇄할 수 없는 문자가 포함되어 있습니다. 시구정촌 창구에서 발급받으십시오.",
        es: "Su nombre u otro dato contiene un carácter que no se puede imprimir en la tienda. Solicite el certificado en la municipalidad.",
        pt: "Seu nome ou outro dado contém um caractere que não pode ser impresso na loja. Solicite o certificado na prefeitura.",
        vi: "Họ tên hoặc thông tin khác có ký tự không thể in tại cửa hàng tiện lợi. Vui lòng nhận giấy chứng nhận tại cơ quan hành chính địa phương.",
        tl: "May karakter sa inyong pangalan o ibang detalye na hindi maiimprenta sa convenience store. Mangyaring kunin ang sertipiko sa munisipyo.",
        ne: "तपाईंको नाम वा अन्य विवरणमा पसलमा छाप्न नसकिने अक्षर छ। कृपया नगरपालिका कार्यालयबाट प्रमाणपत्र लिनुहोस्।",
        id: "Nama atau data lain Anda mengandung karakter yang tidak dapat dicetak di toko. Silakan ambil surat keterangan di kantor pemerintah daerah.",
        th: "ชื่อหรือข้อมูลอื่นของท่านมีอักขระที่ไม่สามารถพิมพ์ที่ร้านสะดวกซื้อได้ กรุณารับหนังสือรับรองที่สำนักงานเทศบาล",
    }

    // Why a kind other than the residence certificate cannot be had, from
    // its own register (the menu's reasons).
    /// seal_not_registered
    SEAL_NOT_REGISTERED {
        ja: "印鑑登録がされていないため、印鑑登録証明書は交付できません。",
        en: "No seal is registered, so a seal registration certificate cannot be issued.",
        zh_hans: "由于尚未办理印章登记，无法开具印章登记证明书。",
        zh_hant: "由於尚未辦理印章登記，無法核發印章登記證明書。",
        ko: "인감등록이 되어 있지 않아 인감등록증명서를 발급할 수 없습니다.",
        es: "No se puede emitir el certificado de registro de sello porque no hay ningún sello registrado.",
        pt: "Não é possível emitir o certificado de registro de carimbo porque não há carimbo registrado.",
        vi: "Không thể cấp giấy chứng nhận đăng ký con dấu vì quý khách chưa đăng ký con dấu.",
        tl: "Hindi maaaring mag-isyu ng sertipiko ng pagpaparehistro ng selyo dahil walang nakarehistrong selyo.",
        ne: "छाप दर्ता नगरिएकोले छाप दर्ता प्रमाणपत्र जारी गर्न सकिँदैन।",
        id: "Surat keterangan registrasi stempel tidak dapat diterbitkan karena stempel belum diregistrasi.",
        th: "ไม่สามารถออกหนังสือรับรองการจดทะเบียนตราประทับได้ เนื่องจากยังไม่ได้จดทะเบียนตราประทับ",
    }
    /// seal_abolished
    SEAL_ABOLISHED {
        ja: "印鑑登録が廃止されているため、印鑑登録証明書は交付できません。市区町村の窓口にお問い合わせください。",
        en: "The seal registration has been abolished, so a seal registration certificate cannot be issued. Please contact the municipal office.",
        zh_hans: "由于印章登记已被注销，无法开具印章登记证明书。请向市区町村窗口咨询。",
        zh_hant: "由於印章登記已廢止，無法核發印章登記證明書。請洽詢市區町村窗口。",
        ko: "인감등록이 폐지되어 인감등록증명서를 발급할 수 없습니다. 시구정촌 창구에 문의해 주십시오.",
        es: "No se puede emitir el certificado de registro de sello porque el registro del sello ha sido cancelado. Consulte en la ventanilla de la municipalidad.",
        pt: "Não é possível emitir o certificado de registro de carimbo porque o registro do carimbo foi cancelado. Entre em contato com a prefeitura.",
        vi: "Không thể cấp giấy chứng nhận đăng ký con dấu vì đăng ký con dấu đã bị hủy bỏ. Vui lòng liên hệ quầy của cơ quan hành chính địa phương.",
        tl: "Hindi maaaring mag-isyu ng sertipiko ng pagpaparehistro ng selyo dahil kinansela na ang pagpaparehistro ng selyo. Mangyaring makipag-ugnayan sa tanggapan ng munisipyo.",
        ne: "छाप दर्ता खारेज भइसकेकोले छाप दर्ता प्रमाणपत्र जारी गर्न सकिँदैन। कृपया नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan registrasi stempel tidak dapat diterbitkan karena registrasi stempel telah dicabut. Silakan hubungi loket kantor pemerintah daerah setempat.",
        th: "ไม่สามารถออกหนังสือรับรองการจดทะเบียนตราประทับได้ เนื่องจากการจดทะเบียนตราประทับถูกยกเลิกแล้ว กรุณาติดต่อที่สำนักงานเทศบาล",
    }
    /// no_tax_record
    NO_TAX_RECORD {
        ja: "該当する年度の課税記録がないため、この証明書は交付できません。市区町村の窓口にお問い合わせください。",
        en: "There is no tax record for the fiscal year, so this certificate cannot be issued. Please contact the municipal office.",
        zh_hans: "由于没有相应年度的课税记录，无法开具此证明书。请向市区町村窗口咨询。",
        zh_hant: "由於沒有該年度的課稅紀錄，無法核發此證明書。請洽詢市區町村窗口。",
        ko: "해당 연도의 과세 기록이 없어 이 증명서를 발급할 수 없습니다. 시구정촌 창구에 문의해 주십시오.",
        es: "No se puede emitir este certificado porque no hay registro tributario del año fiscal correspondiente. Consulte en la ventanilla de la municipalidad.",
        pt: "Não é possível emitir este certificado porque não há registro de tributação do ano fiscal correspondente. Entre em contato com a prefeitura.",
        vi: "Không thể cấp giấy chứng nhận này vì không có hồ sơ thuế của năm tài chính tương ứng. Vui lòng liên hệ quầy của cơ quan hành chính địa phương.",
        tl: "Hindi maaaring i-isyu ang sertipikong ito dahil walang rekord ng buwis para sa kaukulang taon ng piskal. Mangyaring makipag-ugnayan sa tanggapan ng munisipyo.",
        ne: "सम्बन्धित आर्थिक वर्षको कर अभिलेख नभएकोले यो प्रमाणपत्र जारी गर्न सकिँदैन। कृपया नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan ini tidak dapat diterbitkan karena tidak ada catatan pajak untuk tahun fiskal yang bersangkutan. Silakan hubungi loket kantor pemerintah daerah setempat.",
        th: "ไม่สามารถออกหนังสือรับรองนี้ได้ เนื่องจากไม่มีข้อมูลการเสียภาษีของปีงบประมาณที่เกี่ยวข้อง กรุณาติดต่อที่สำนักงานเทศบาล",
    }
    /// tax_year_not_released
    TAX_YEAR_NOT_RELEASED {
        ja: "今年度の課税・所得証明書はまだ交付を開始していません。",
        en: "This fiscal year's tax and income certificates are not issued yet.",
        zh_hans: "本年度的课税・所得证明书尚未开始开具。",
        zh_hant: "本年度的課稅・所得證明書尚未開始核發。",
        ko: "금년도 과세・소득증명서는 아직 발급이 시작되지 않았습니다.",
        es: "Aún no ha comenzado la emisión de los certificados de impuestos e ingresos de este año fiscal.",
        pt: "A emissão dos certificados de impostos e rendimentos deste ano fiscal ainda não começou.",
        vi: "Giấy chứng nhận thuế và thu nhập của năm tài chính này chưa bắt đầu được cấp.",
        tl: "Hindi pa nagsisimula ang pag-isyu ng sertipiko ng buwis at kita para sa taon ng piskal na ito.",
        ne: "यस आर्थिक वर्षको कर तथा आय प्रमाणपत्र जारी गर्न अझै सुरु भएको छैन।",
        id: "Penerbitan surat keterangan pajak dan penghasilan untuk tahun fiskal ini belum dimulai.",
        th: "ยังไม่เริ่มออกหนังสือรับรองภาษีและรายได้ของปีงบประมาณนี้",
    }
    /// not_registered_here_on_january_1
    NOT_REGISTERED_HERE_ON_JANUARY_1 {
        ja: "1月1日にこの市区町村に住民登録がなかったため、この証明書は交付できません。1月1日時点でお住まいの市区町村にお問い合わせください。",
        en: "You were not registered in this municipality on 1 January, so this certificate cannot be issued here. Please contact the municipality where you lived on 1 January.",
        zh_hans: "由于您在1月1日未在本市区町村进行住民登记，无法开具此证明书。请向您1月1日时居住的市区町村咨询。",
        zh_hant: "由於您於1月1日未在本市區町村辦理住民登記，無法核發此證明書。請洽詢您1月1日時居住的市區町村。",
        ko: "1월 1일에 이 시구정촌에 주민등록이 되어 있지 않아 이 증명서를 발급할 수 없습니다. 1월 1일 당시 거주하셨던 시구정촌에 문의해 주십시오.",
        es: "No se puede emitir este certificado porque usted no estaba registrado como residente en este municipio el 1 de enero. Consulte con la municipalidad donde residía el 1 de enero.",
        pt: "Não é possível emitir este certificado porque você não tinha registro de residência neste município em 1º de janeiro. Entre em contato com a prefeitura do município onde morava em 1º de janeiro.",
        vi: "Không thể cấp giấy chứng nhận này vì quý khách không đăng ký cư trú tại địa phương này vào ngày 1 tháng 1. Vui lòng liên hệ cơ quan hành chính địa phương nơi quý khách cư trú vào ngày 1 tháng 1.",
        tl: "Hindi maaaring i-isyu ang sertipikong ito dahil hindi kayo nakarehistro bilang residente sa munisipyong ito noong Enero 1. Mangyaring makipag-ugnayan sa munisipyo kung saan kayo nakatira noong Enero 1.",
        ne: "जनवरी १ गते यस नगरपालिकामा तपाईंको बसोबास दर्ता नभएकोले यो प्रमाणपत्र जारी गर्न सकिँदैन। कृपया जनवरी १ गते तपाईं बसोबास गर्नुभएको नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Surat keterangan ini tidak dapat diterbitkan karena Anda tidak terdaftar sebagai penduduk di daerah ini pada tanggal 1 Januari. Silakan hubungi kantor pemerintah daerah tempat Anda tinggal pada tanggal 1 Januari.",
        th: "ไม่สามารถออกหนังสือรับรองนี้ได้ เนื่องจากท่านไม่มีทะเบียนผู้พักอาศัยในเขตเทศบาลนี้ ณ วันที่ 1 มกราคม กรุณาติดต่อสำนักงานเทศบาลที่ท่านพักอาศัยอยู่ ณ วันที่ 1 มกราคม",
    }
    /// domicile_elsewhere
    DOMICILE_ELSEWHERE {
        ja: "本籍がこの市区町村にないため、戸籍証明書はこの方法では交付できません。本籍地の市区町村で利用登録をしてください。",
        en: "Your registered domicile is not in this municipality, so family register certificates cannot be issued this way. Please register with the municipality of your registered domicile.",
        zh_hans: "由于您的本籍不在本市区町村，无法通过此方式开具户籍证明书。请在本籍地的市区町村办理使用登记。",
        zh_hant: "由於您的本籍不在本市區町村，無法以此方式核發戶籍證明書。請至本籍地的市區町村辦理使用登記。",
        ko: "본적이 이 시구정촌에 없어 이 방법으로는 호적증명서를 발급할 수 없습니다. 본적지 시구정촌에서 이용 등록을 해 주십시오.",
        es: "No se puede emitir el certificado del registro familiar por este medio porque su domicilio registral no está en este municipio. Realice el registro de uso del servicio en la municipalidad de su domicilio registral.",
        pt: "Não é possível emitir o certificado do registro familiar por este meio porque o seu domicílio registral não está neste município. Faça o cadastro de uso do serviço na prefeitura do município do seu domicílio registral.",
        vi: "Không thể cấp giấy chứng nhận hộ tịch bằng phương thức này vì nơi đăng ký hộ tịch của quý khách không thuộc địa phương này. Vui lòng đăng ký sử dụng dịch vụ tại cơ quan hành chính địa phương nơi đăng ký hộ tịch.",
        tl: "Hindi maaaring i-isyu sa paraang ito ang sertipiko ng rehistro ng pamilya dahil wala sa munisipyong ito ang inyong rehistradong domisilyo. Mangyaring magparehistro para sa paggamit ng serbisyo sa munisipyo ng inyong rehistradong domisilyo.",
        ne: "तपाईंको दर्ता गरिएको स्थायी ठेगाना यस नगरपालिकामा नभएकोले यस तरिकाबाट पारिवारिक दर्ता प्रमाणपत्र जारी गर्न सकिँदैन। कृपया आफ्नो दर्ता गरिएको स्थायी ठेगानाको नगरपालिका कार्यालयमा सेवा प्रयोगका लागि दर्ता गर्नुहोस्।",
        id: "Surat keterangan daftar keluarga tidak dapat diterbitkan dengan cara ini karena domisili terdaftar Anda tidak berada di daerah ini. Silakan lakukan pendaftaran penggunaan layanan di kantor pemerintah daerah domisili terdaftar Anda.",
        th: "ไม่สามารถออกหนังสือรับรองทะเบียนครอบครัวด้วยวิธีนี้ได้ เนื่องจากภูมิลำเนาตามทะเบียนของท่านไม่ได้อยู่ในเขตเทศบาลนี้ กรุณาลงทะเบียนใช้บริการที่สำนักงานเทศบาลของภูมิลำเนาตามทะเบียน",
    }

    // Problem details, one per stable code (see `crate::gateway::error`).
    INTERNAL_ERROR {
        ja: "予期しないエラーが発生しました。",
        en: "An unexpected error occurred.",
        zh_hans: "发生了意外错误。",
        zh_hant: "發生未預期的錯誤。",
        ko: "예기치 않은 오류가 발생했습니다.",
        es: "Se ha producido un error inesperado.",
        pt: "Ocorreu um erro inesperado.",
        vi: "Đã xảy ra lỗi không mong muốn.",
        tl: "Nagkaroon ng hindi inaasahang error.",
        ne: "अप्रत्याशित त्रुटि भयो।",
        id: "Terjadi kesalahan yang tidak terduga.",
        th: "เกิดข้อผิดพลาดที่ไม่คาดคิด",
    }
    SERVICE_UNAVAILABLE {
        ja: "ただいまサービスを利用できません。しばらくしてから再度お試しください。",
        en: "The service is temporarily unavailable. Please try again.",
        zh_hans: "服务暂时无法使用。请稍后再试。",
        zh_hant: "服務暫時無法使用。請稍後再試。",
        ko: "현재 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주십시오.",
        es: "El servicio no está disponible temporalmente. Inténtelo de nuevo más tarde.",
        pt: "O serviço está temporariamente indisponível. Tente novamente mais tarde.",
        vi: "Dịch vụ tạm thời không khả dụng. Vui lòng thử lại sau.",
        tl: "Pansamantalang hindi magagamit ang serbisyo. Pakisubukang muli mamaya.",
        ne: "सेवा अस्थायी रूपमा उपलब्ध छैन। कृपया केही समयपछि फेरि प्रयास गर्नुहोस्।",
        id: "Layanan untuk sementara tidak tersedia. Silakan coba lagi nanti.",
        th: "บริการไม่พร้อมใช้งานชั่วคราว กรุณาลองใหม่อีกครั้งในภายหลัง",
    }
    NOT_FOUND {
        ja: "指定されたリソースはありません。",
        en: "No such resource.",
        zh_hans: "指定的资源不存在。",
        zh_hant: "指定的資源不存在。",
        ko: "지정한 리소스가 없습니다.",
        es: "El recurso solicitado no existe.",
        pt: "O recurso solicitado não existe.",
        vi: "Tài nguyên được chỉ định không tồn tại.",
        tl: "Walang ganoong resource.",
        ne: "तोकिएको स्रोत भेटिएन।",
        id: "Sumber daya yang diminta tidak ada.",
        th: "ไม่พบทรัพยากรที่ระบุ",
    }
    METHOD_NOT_ALLOWED {
        ja: "このメソッドは使用できません。",
        en: "Method not allowed.",
        zh_hans: "不允许使用此方法。",
        zh_hant: "不允許使用此方法。",
        ko: "이 메서드는 사용할 수 없습니다.",
        es: "Método no permitido.",
        pt: "Método não permitido.",
        vi: "Phương thức này không được phép.",
        tl: "Hindi pinapayagan ang method na ito.",
        ne: "यो विधि प्रयोग गर्न मिल्दैन।",
        id: "Metode ini tidak diizinkan.",
        th: "ไม่อนุญาตให้ใช้เมธอดนี้",
    }
    BODY_TOO_LARGE {
        ja: "リクエストが大きすぎます。",
        en: "The request body is too large.",
        zh_hans: "请求内容过大。",
        zh_hant: "請求內容過大。",
        ko: "요청 본문이 너무 큽니다.",
        es: "El cuerpo de la petición es demasiado grande.",
        pt: "O corpo da requisição é grande demais.",
        vi: "Nội dung yêu cầu quá lớn.",
        tl: "Masyadong malaki ang request.",
        ne: "अनुरोध धेरै ठूलो छ।",
        id: "Isi permintaan terlalu besar.",
        th: "เนื้อหาคำขอมีขนาดใหญ่เกินไป",
    }
    MALFORMED_REQUEST {
        ja: "リクエストの形式が正しくありません。",
        en: "The request body is not valid.",
        zh_hans: "请求内容的格式不正确。",
        zh_hant: "請求內容的格式不正確。",
        ko: "요청 형식이 올바르지 않습니다.",
        es: "El cuerpo de la petición no es válido.",
        pt: "O corpo da requisição não é válido.",
        vi: "Nội dung yêu cầu không hợp lệ.",
        tl: "Hindi wasto ang format ng request.",
        ne: "अनुरोधको ढाँचा सही छैन।",
        id: "Format permintaan tidak valid.",
        th: "รูปแบบคำขอไม่ถูกต้อง",
    }
    COPIER_CERTIFICATE_REQUIRED {
        ja: "マルチコピー機のクライアント証明書が必要です。",
        en: "A copier client certificate is required.",
        zh_hans: "需要多功能复印机的客户端证书。",
        zh_hant: "需要多功能事務機的用戶端憑證。",
        ko: "멀티 복합기의 클라이언트 인증서가 필요합니다.",
        es: "Se requiere el certificado de cliente de la fotocopiadora multifunción.",
        pt: "É necessário o certificado de cliente da copiadora multifuncional.",
        vi: "Cần có chứng thư số máy khách của máy photocopy đa năng.",
        tl: "Kailangan ang client certificate ng multifunction copier.",
        ne: "बहुउद्देश्यीय फोटोकपी मेसिनको क्लाइन्ट प्रमाणपत्र आवश्यक छ।",
        id: "Sertifikat klien mesin fotokopi multifungsi diperlukan.",
        th: "ต้องมีใบรับรองไคลเอนต์ของเครื่องถ่ายเอกสารมัลติฟังก์ชัน",
    }
    SESSION_NOT_FOUND {
        ja: "セッションが見つかりません。",
        en: "No such session.",
        zh_hans: "找不到该会话。",
        zh_hant: "找不到該工作階段。",
        ko: "세션을 찾을 수 없습니다.",
        es: "No se encontró la sesión.",
        pt: "Sessão não encontrada.",
        vi: "Không tìm thấy phiên.",
        tl: "Hindi mahanap ang session.",
        ne: "सत्र भेटिएन।",
        id: "Sesi tidak ditemukan.",
        th: "ไม่พบเซสชัน",
    }
    SESSION_EXPIRED {
        ja: "セッションの有効期限が切れました。最初からやり直してください。",
        en: "The session has expired. Please start again.",
        zh_hans: "会话已过期。请从头重新操作。",
        zh_hant: "工作階段已過期。請從頭重新操作。",
        ko: "세션이 만료되었습니다. 처음부터 다시 진행해 주십시오.",
        es: "La sesión ha caducado. Vuelva a empezar desde el principio.",
        pt: "A sessão expirou. Recomece desde o início.",
        vi: "Phiên đã hết hạn. Vui lòng thực hiện lại từ đầu.",
        tl: "Nag-expire na ang session. Pakiulit mula sa simula.",
        ne: "सत्रको म्याद सकियो। कृपया सुरुदेखि फेरि गर्नुहोस्।",
        id: "Sesi telah berakhir. Silakan mulai dari awal.",
        th: "เซสชันหมดอายุแล้ว กรุณาเริ่มต้นใหม่",
    }
    SESSION_BELONGS_TO_ANOTHER_COPIER {
        ja: "このセッションは別のマルチコピー機で開始されました。",
        en: "This session was opened by another copier.",
        zh_hans: "此会话是在另一台多功能复印机上开始的。",
        zh_hant: "此工作階段是在另一台多功能事務機上開始的。",
        ko: "이 세션은 다른 멀티 복합기에서 시작되었습니다.",
        es: "Esta sesión se inició en otra fotocopiadora multifunción.",
        pt: "Esta sessão foi iniciada em outra copiadora multifuncional.",
        vi: "Phiên này đã được bắt đầu trên một máy photocopy đa năng khác.",
        tl: "Sinimulan ang session na ito sa ibang multifunction copier.",
        ne: "यो सत्र अर्को बहुउद्देश्यीय फोटोकपी मेसिनमा सुरु गरिएको थियो।",
        id: "Sesi ini dimulai di mesin fotokopi multifungsi lain.",
        th: "เซสชันนี้เริ่มต้นจากเครื่องถ่ายเอกสารมัลติฟังก์ชันเครื่องอื่น",
    }
    CHALLENGE_ALREADY_USED {
        ja: "このチャレンジは使用済みです。最初からやり直してください。",
        en: "The challenge was already used. Please start again.",
        zh_hans: "此质询已被使用。请从头重新操作。",
        zh_hant: "此挑戰值已被使用。請從頭重新操作。",
        ko: "이 챌린지는 이미 사용되었습니다. 처음부터 다시 진행해 주십시오.",
        es: "Este desafío ya se utilizó. Vuelva a empezar desde el principio.",
        pt: "Este desafio já foi utilizado. Recomece desde o início.",
        vi: "Mã thử thách này đã được sử dụng. Vui lòng thực hiện lại từ đầu.",
        tl: "Nagamit na ang challenge na ito. Pakiulit mula sa simula.",
        ne: "यो च्यालेन्ज पहिले नै प्रयोग भइसकेको छ। कृपया सुरुदेखि फेरि गर्नुहोस्।",
        id: "Kode tantangan ini sudah digunakan. Silakan mulai dari awal.",
        th: "รหัสชาเลนจ์นี้ถูกใช้ไปแล้ว กรุณาเริ่มต้นใหม่",
    }
    SESSION_NOT_AUTHENTICATED {
        ja: "このセッションではカードが確認されていません。",
        en: "The card has not been verified in this session.",
        zh_hans: "本次会话中尚未验证卡片。",
        zh_hant: "本次工作階段尚未驗證卡片。",
        ko: "이 세션에서는 카드가 확인되지 않았습니다.",
        es: "La tarjeta no se ha verificado en esta sesión.",
        pt: "O cartão não foi verificado nesta sessão.",
        vi: "Thẻ chưa được xác minh trong phiên này.",
        tl: "Hindi pa nabe-verify ang card sa session na ito.",
        ne: "यस सत्रमा कार्ड प्रमाणित भएको छैन।",
        id: "Kartu belum diverifikasi dalam sesi ini.",
        th: "ยังไม่ได้ยืนยันบัตรในเซสชันนี้",
    }
    CARD_ALGORITHM_UNSUPPORTED {
        ja: "カードの署名方式に対応していません。",
        en: "The card's signature algorithm is not supported.",
        zh_hans: "不支持该卡片的签名算法。",
        zh_hant: "不支援此卡片的簽章演算法。",
        ko: "카드의 서명 방식을 지원하지 않습니다.",
        es: "El método de firma de la tarjeta no es compatible.",
        pt: "O método de assinatura do cartão não é compatível.",
        vi: "Không hỗ trợ thuật toán chữ ký của thẻ.",
        tl: "Hindi suportado ang paraan ng paglagda ng card.",
        ne: "कार्डको हस्ताक्षर विधि समर्थित छैन।",
        id: "Algoritme tanda tangan kartu tidak didukung.",
        th: "ไม่รองรับอัลกอริทึมลายมือชื่อของบัตร",
    }
    CARD_CERTIFICATE_INVALID {
        ja: "カードの電子証明書が正しくありません。",
        en: "The card certificate is not valid.",
        zh_hans: "卡片的电子证书无效。",
        zh_hant: "卡片的電子憑證無效。",
        ko: "카드의 전자인증서가 올바르지 않습니다.",
        es: "El certificado electrónico de la tarjeta no es válido.",
        pt: "O certificado digital do cartão não é válido.",
        vi: "Chứng thư số của thẻ không hợp lệ.",
        tl: "Hindi wasto ang elektronikong sertipiko ng card.",
        ne: "कार्डको विद्युतीय प्रमाणपत्र मान्य छैन।",
        id: "Sertifikat elektronik kartu tidak valid.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรไม่ถูกต้อง",
    }
    CARD_UNKNOWN_ISSUER {
        ja: "カードの電子証明書の発行元を確認できません。",
        en: "The card certificate was not issued by a trusted authority.",
        zh_hans: "无法确认卡片电子证书的签发机构。",
        zh_hant: "無法確認卡片電子憑證的簽發機構。",
        ko: "카드 전자인증서의 발급 기관을 확인할 수 없습니다.",
        es: "No se puede verificar el emisor del certificado electrónico de la tarjeta.",
        pt: "Não foi possível confirmar o emissor do certificado digital do cartão.",
        vi: "Không thể xác nhận đơn vị cấp chứng thư số của thẻ.",
        tl: "Hindi makumpirma ang nag-isyu ng elektronikong sertipiko ng card.",
        ne: "कार्डको विद्युतीय प्रमाणपत्र जारी गर्ने निकाय पुष्टि गर्न सकिएन।",
        id: "Sertifikat elektronik kartu tidak diterbitkan oleh otoritas tepercaya.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรไม่ได้ออกโดยหน่วยงานที่เชื่อถือได้",
    }
    CARD_NOT_YET_VALID {
        ja: "カードの電子証明書はまだ有効になっていません。",
        en: "The card certificate is not yet valid.",
        zh_hans: "卡片的电子证书尚未生效。",
        zh_hant: "卡片的電子憑證尚未生效。",
        ko: "카드의 전자인증서가 아직 유효하지 않습니다.",
        es: "El certificado electrónico de la tarjeta aún no es válido.",
        pt: "O certificado digital do cartão ainda não é válido.",
        vi: "Chứng thư số của thẻ chưa có hiệu lực.",
        tl: "Hindi pa balido ang elektronikong sertipiko ng card.",
        ne: "कार्डको विद्युतीय प्रमाणपत्र अझै मान्य भएको छैन।",
        id: "Sertifikat elektronik kartu belum berlaku.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรยังไม่มีผลใช้งาน",
    }
    CARD_EXPIRED {
        ja: "カードの電子証明書の有効期限が切れています。",
        en: "The card certificate has expired.",
        zh_hans: "卡片的电子证书已过期。",
        zh_hant: "卡片的電子憑證已過期。",
        ko: "카드 전자인증서의 유효기간이 만료되었습니다.",
        es: "El certificado electrónico de la tarjeta ha caducado.",
        pt: "O certificado digital do cartão expirou.",
        vi: "Chứng thư số của thẻ đã hết hạn.",
        tl: "Nag-expire na ang elektronikong sertipiko ng card.",
        ne: "कार्डको विद्युतीय प्रमाणपत्रको म्याद सकिएको छ।",
        id: "Masa berlaku sertifikat elektronik kartu telah habis.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรหมดอายุแล้ว",
    }
    CARD_KEY_USAGE_INVALID {
        ja: "カードの電子証明書は利用者証明に使用できません。",
        en: "The card certificate may not be used for authentication.",
        zh_hans: "卡片的电子证书不能用于用户身份认证。",
        zh_hant: "卡片的電子憑證不能用於使用者身分認證。",
        ko: "카드의 전자인증서는 이용자 인증에 사용할 수 없습니다.",
        es: "El certificado electrónico de la tarjeta no se puede usar para la autenticación del usuario.",
        pt: "O certificado digital do cartão não pode ser usado para autenticação do usuário.",
        vi: "Chứng thư số của thẻ không thể dùng để xác thực người dùng.",
        tl: "Hindi magagamit ang elektronikong sertipiko ng card para sa user authentication.",
        ne: "कार्डको विद्युतीय प्रमाणपत्र प्रयोगकर्ता प्रमाणीकरणका लागि प्रयोग गर्न मिल्दैन।",
        id: "Sertifikat elektronik kartu tidak dapat digunakan untuk autentikasi.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรไม่สามารถใช้เพื่อยืนยันตัวตนได้",
    }
    CARD_POLICY_MISSING {
        ja: "カードの電子証明書は利用者証明用電子証明書ではありません。",
        en: "The card certificate is not a user-authentication certificate.",
        zh_hans: "卡片的电子证书不是用户身份认证用电子证书。",
        zh_hant: "卡片的電子憑證不是使用者身分認證用電子憑證。",
        ko: "카드의 전자인증서는 이용자 증명용 전자인증서가 아닙니다.",
        es: "El certificado electrónico de la tarjeta no es un certificado de autenticación del usuario.",
        pt: "O certificado digital do cartão não é um certificado de autenticação do usuário.",
        vi: "Chứng thư số của thẻ không phải là chứng thư số xác thực người dùng.",
        tl: "Ang elektronikong sertipiko ng card ay hindi sertipiko para sa user authentication.",
        ne: "कार्डको विद्युतीय प्रमाणपत्र प्रयोगकर्ता प्रमाणीकरणको प्रमाणपत्र होइन।",
        id: "Sertifikat elektronik kartu bukan sertifikat autentikasi pengguna.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรไม่ใช่ใบรับรองสำหรับยืนยันตัวตนผู้ใช้",
    }
    CARD_EXTENSION_UNSUPPORTED {
        ja: "カードの電子証明書に未対応の重要な拡張があります。",
        en: "The card certificate has an unsupported critical extension.",
        zh_hans: "卡片的电子证书包含不支持的关键扩展。",
        zh_hant: "卡片的電子憑證包含不支援的關鍵擴充欄位。",
        ko: "카드의 전자인증서에 지원되지 않는 중요 확장이 있습니다.",
        es: "El certificado electrónico de la tarjeta contiene una extensión crítica no compatible.",
        pt: "O certificado digital do cartão contém uma extensão crítica não suportada.",
        vi: "Chứng thư số của thẻ có phần mở rộng quan trọng không được hỗ trợ.",
        tl: "May hindi suportadong critical extension ang elektronikong sertipiko ng card.",
        ne: "कार्डको विद्युतीय प्रमाणपत्रमा असमर्थित महत्त्वपूर्ण विस्तार छ।",
        id: "Sertifikat elektronik kartu memiliki ekstensi kritis yang tidak didukung.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรมีส่วนขยายสำคัญที่ไม่รองรับ",
    }
    CARD_SIGNATURE_INVALID {
        ja: "カードの署名を確認できませんでした。",
        en: "The card's signature could not be verified.",
        zh_hans: "无法验证卡片的签名。",
        zh_hant: "無法驗證卡片的簽章。",
        ko: "카드의 서명을 확인할 수 없었습니다.",
        es: "No se pudo verificar la firma de la tarjeta.",
        pt: "Não foi possível verificar a assinatura do cartão.",
        vi: "Không thể xác minh chữ ký của thẻ.",
        tl: "Hindi ma-verify ang lagda ng card.",
        ne: "कार्डको हस्ताक्षर प्रमाणित गर्न सकिएन।",
        id: "Tanda tangan kartu tidak dapat diverifikasi.",
        th: "ไม่สามารถตรวจสอบลายมือชื่อของบัตรได้",
    }
    CARD_ISSUER_NOT_CA {
        ja: "このカードの電子証明書の発行元は認証局ではありません。",
        en: "A certificate that issued this card is not a certification authority.",
        zh_hans: "此卡片电子证书的签发者不是认证机构。",
        zh_hant: "此卡片電子憑證的簽發者不是憑證機構。",
        ko: "이 카드 전자인증서의 발급자는 인증기관이 아닙니다.",
        es: "El emisor del certificado electrónico de esta tarjeta no es una autoridad de certificación.",
        pt: "O emissor do certificado digital deste cartão não é uma autoridade certificadora.",
        vi: "Đơn vị cấp chứng thư số của thẻ này không phải là tổ chức chứng thực.",
        tl: "Ang nag-isyu ng elektronikong sertipiko ng card na ito ay hindi certification authority.",
        ne: "यस कार्डको विद्युतीय प्रमाणपत्र जारी गर्ने निकाय प्रमाणपत्र प्राधिकरण होइन।",
        id: "Penerbit sertifikat elektronik kartu ini bukan otoritas sertifikasi.",
        th: "ผู้ออกใบรับรองอิเล็กทรอนิกส์ของบัตรนี้ไม่ใช่หน่วยงานออกใบรับรอง",
    }
    CARD_ISSUER_NOT_VALID {
        ja: "このカードの電子証明書の発行元の証明書は現在有効ではありません。",
        en: "A certificate that issued this card is not valid now.",
        zh_hans: "此卡片电子证书签发者的证书当前无效。",
        zh_hant: "此卡片電子憑證簽發者的憑證目前無效。",
        ko: "이 카드 전자인증서 발급자의 인증서는 현재 유효하지 않습니다.",
        es: "El certificado del emisor de esta tarjeta no es válido en este momento.",
        pt: "O certificado do emissor deste cartão não é válido no momento.",
        vi: "Chứng thư số của đơn vị cấp chứng thư cho thẻ này hiện không có hiệu lực.",
        tl: "Hindi balido sa ngayon ang sertipiko ng nag-isyu ng card na ito.",
        ne: "यस कार्डको प्रमाणपत्र जारी गर्ने निकायको प्रमाणपत्र हाल मान्य छैन।",
        id: "Sertifikat penerbit kartu ini saat ini tidak berlaku.",
        th: "ใบรับรองของผู้ออกบัตรนี้ไม่มีผลใช้งานในขณะนี้",
    }
    CARD_PATH_REFUSED {
        ja: "このカードの電子証明書の認証パスは受け付けられません。",
        en: "The card certificate's certification path is not acceptable.",
        zh_hans: "无法接受此卡片电子证书的认证路径。",
        zh_hant: "無法接受此卡片電子憑證的憑證路徑。",
        ko: "이 카드 전자인증서의 인증 경로는 허용되지 않습니다.",
        es: "No se acepta la ruta de certificación del certificado electrónico de esta tarjeta.",
        pt: "O caminho de certificação do certificado digital deste cartão não é aceito.",
        vi: "Không thể chấp nhận đường dẫn chứng thực của chứng thư số của thẻ này.",
        tl: "Hindi tinatanggap ang certification path ng elektronikong sertipiko ng card na ito.",
        ne: "यस कार्डको विद्युतीय प्रमाणपत्रको प्रमाणीकरण मार्ग स्वीकार्य छैन।",
        id: "Jalur sertifikasi sertifikat elektronik kartu ini tidak dapat diterima.",
        th: "ไม่สามารถยอมรับเส้นทางการรับรองของใบรับรองอิเล็กทรอนิกส์ของบัตรนี้ได้",
    }
    CARD_VERIFIER_MISCONFIGURED {
        ja: "現在カードを確認できません。",
        en: "The gateway cannot verify cards right now.",
        zh_hans: "目前无法验证卡片。",
        zh_hant: "目前無法驗證卡片。",
        ko: "현재 카드를 확인할 수 없습니다.",
        es: "En este momento no se pueden verificar tarjetas.",
        pt: "No momento, não é possível verificar cartões.",
        vi: "Hiện không thể xác minh thẻ.",
        tl: "Hindi ma-verify ang mga card sa ngayon.",
        ne: "हाल कार्ड प्रमाणित गर्न सकिँदैन।",
        id: "Saat ini kartu tidak dapat diverifikasi.",
        th: "ขณะนี้ไม่สามารถตรวจสอบบัตรได้",
    }
    CARD_NOT_REGISTERED {
        ja: "このカードは参加市区町村の住民と紐付いていません。",
        en: "This card is not linked to a resident of a participating municipality.",
        zh_hans: "此卡片未与参与本服务的市区町村的居民关联。",
        zh_hant: "此卡片未與參與本服務的市區町村的居民連結。",
        ko: "이 카드는 참여 시구정촌의 주민과 연결되어 있지 않습니다.",
        es: "Esta tarjeta no está vinculada a ningún residente de una municipalidad participante.",
        pt: "Este cartão não está vinculado a um residente de um município participante.",
        vi: "Thẻ này không được liên kết với cư dân của chính quyền địa phương tham gia dịch vụ.",
        tl: "Hindi naka-link ang card na ito sa residente ng isang kalahok na munisipyo.",
        ne: "यो कार्ड सहभागी नगरपालिकाको बासिन्दासँग जोडिएको छैन।",
        id: "Kartu ini tidak terhubung dengan penduduk pemerintah daerah yang berpartisipasi.",
        th: "บัตรนี้ไม่ได้เชื่อมโยงกับผู้มีถิ่นที่อยู่ของหน่วยงานท้องถิ่นที่เข้าร่วม",
    }
    CARD_SUSPENDED {
        ja: "このカードの電子証明書は一時保留中です(紛失の届出)。市区町村の窓口にお問い合わせください。",
        en: "This card's certificate is suspended (reported lost). Please contact your municipality.",
        zh_hans: "此卡片的电子证书已暂停使用（已申报遗失）。请咨询市区町村窗口。",
        zh_hant: "此卡片的電子憑證已暫停使用（已申報遺失）。請洽詢市區町村窗口。",
        ko: "이 카드의 전자인증서는 일시 정지 중입니다(분실 신고). 시구정촌 창구에 문의하십시오.",
        es: "El certificado electrónico de esta tarjeta está suspendido temporalmente (por aviso de pérdida). Consulte a su municipalidad.",
        pt: "O certificado digital deste cartão está suspenso temporariamente (comunicação de perda). Entre em contato com a prefeitura.",
        vi: "Chứng thư số của thẻ này đang bị tạm dừng (đã báo mất). Vui lòng liên hệ với cơ quan hành chính địa phương.",
        tl: "Pansamantalang suspendido ang elektronikong sertipiko ng card na ito (iniulat na nawala). Mangyaring makipag-ugnayan sa inyong munisipyo.",
        ne: "यस कार्डको विद्युतीय प्रमाणपत्र अस्थायी रूपमा निलम्बित छ (हराएको सूचना दिइएको)। कृपया आफ्नो नगरपालिका कार्यालयमा सम्पर्क गर्नुहोस्।",
        id: "Sertifikat elektronik kartu ini ditangguhkan (dilaporkan hilang). Silakan hubungi kantor pemerintah daerah Anda.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรนี้ถูกระงับชั่วคราว (แจ้งสูญหาย) กรุณาติดต่อสำนักงานเทศบาลของท่าน",
    }
    CARD_REVOKED {
        ja: "このカードの電子証明書は失効しているか、更新されています。",
        en: "This card's certificate has been revoked or replaced.",
        zh_hans: "此卡片的电子证书已失效或已更新。",
        zh_hant: "此卡片的電子憑證已失效或已更新。",
        ko: "이 카드의 전자인증서는 폐지되었거나 갱신되었습니다.",
        es: "El certificado electrónico de esta tarjeta ha sido revocado o renovado.",
        pt: "O certificado digital deste cartão foi revogado ou renovado.",
        vi: "Chứng thư số của thẻ này đã bị thu hồi hoặc đã được thay thế.",
        tl: "Binawi na o na-renew na ang elektronikong sertipiko ng card na ito.",
        ne: "यस कार्डको विद्युतीय प्रमाणपत्र खारेज वा नवीकरण भइसकेको छ।",
        id: "Sertifikat elektronik kartu ini telah dicabut atau diganti.",
        th: "ใบรับรองอิเล็กทรอนิกส์ของบัตรนี้ถูกเพิกถอนหรือถูกแทนที่แล้ว",
    }
    REVOCATION_DATA_STALE {
        ja: "現在この電子証明書の失効情報を確認できません。しばらくしてから再度お試しください。",
        en: "The gateway has no current revocation list for this card; please try again later.",
        zh_hans: "目前无法确认此电子证书的失效信息。请稍后再试。",
        zh_hant: "目前無法確認此電子憑證的廢止資訊。請稍後再試。",
        ko: "현재 이 전자인증서의 폐지 정보를 확인할 수 없습니다. 잠시 후 다시 시도해 주십시오.",
        es: "En este momento no se puede comprobar si este certificado electrónico ha sido revocado. Inténtelo de nuevo más tarde.",
        pt: "No momento, não é possível verificar se este certificado digital foi revogado. Tente novamente mais tarde.",
        vi: "Hiện không thể kiểm tra thông tin thu hồi của chứng thư số này. Vui lòng thử lại sau.",
        tl: "Hindi ma-check sa ngayon kung binawi na ang elektronikong sertipikong ito. Pakisubukang muli mamaya.",
        ne: "हाल यो विद्युतीय प्रमाणपत्र खारेज भएको छ कि छैन जाँच गर्न सकिँदैन। कृपया केही समयपछि फेरि प्रयास गर्नुहोस्।",
        id: "Saat ini informasi pencabutan sertifikat elektronik ini tidak dapat diperiksa. Silakan coba lagi nanti.",
        th: "ขณะนี้ไม่สามารถตรวจสอบข้อมูลการเพิกถอนของใบรับรองอิเล็กทรอนิกส์นี้ได้ กรุณาลองใหม่อีกครั้งในภายหลัง",
    }
    IDEMPOTENCY_KEY_REQUIRED {
        ja: "Idempotency-Key ヘッダーが必要です。",
        en: "An Idempotency-Key header is required.",
        zh_hans: "需要 Idempotency-Key 标头。",
        zh_hant: "需要 Idempotency-Key 標頭。",
        ko: "Idempotency-Key 헤더가 필요합니다.",
        es: "Se requiere el encabezado Idempotency-Key.",
        pt: "O cabeçalho Idempotency-Key é obrigatório.",
        vi: "Cần có tiêu đề Idempotency-Key.",
        tl: "Kailangan ang Idempotency-Key header.",
        ne: "Idempotency-Key हेडर आवश्यक छ।",
        id: "Header Idempotency-Key wajib disertakan.",
        th: "ต้องระบุส่วนหัว Idempotency-Key",
    }
    IDEMPOTENCY_KEY_REUSED {
        ja: "この Idempotency-Key は別の要求に使用されています。",
        en: "This Idempotency-Key was used for a different request.",
        zh_hans: "此 Idempotency-Key 已用于其他请求。",
        zh_hant: "此 Idempotency-Key 已用於其他請求。",
        ko: "이 Idempotency-Key는 다른 요청에 사용되었습니다.",
        es: "Este valor de Idempotency-Key ya se utilizó en otra petición.",
        pt: "Este valor de Idempotency-Key já foi usado em outra requisição.",
        vi: "Idempotency-Key này đã được dùng cho một yêu cầu khác.",
        tl: "Nagamit na ang Idempotency-Key na ito sa ibang request.",
        ne: "यो Idempotency-Key अर्को अनुरोधमा प्रयोग भइसकेको छ।",
        id: "Idempotency-Key ini sudah digunakan untuk permintaan lain.",
        th: "Idempotency-Key นี้ถูกใช้กับคำขออื่นแล้ว",
    }
    CERTIFICATE_KIND_UNAVAILABLE {
        ja: "この証明書は交付できません。",
        en: "This certificate is not available.",
        zh_hans: "无法发行此证明书。",
        zh_hant: "無法發行此證明書。",
        ko: "이 증명서는 발급할 수 없습니다.",
        es: "Este certificado no se puede emitir.",
        pt: "Não é possível emitir este certificado.",
        vi: "Không thể cấp loại giấy chứng nhận này.",
        tl: "Hindi maaaring i-isyu ang sertipikong ito.",
        ne: "यो प्रमाणपत्र जारी गर्न सकिँदैन।",
        id: "Surat keterangan ini tidak tersedia.",
        th: "ไม่มีบริการหนังสือรับรองนี้",
    }
    INVALID_OPTIONS {
        ja: "選択された項目が正しくありません。",
        en: "The chosen options are not valid.",
        zh_hans: "所选项目不正确。",
        zh_hant: "所選項目不正確。",
        ko: "선택한 항목이 올바르지 않습니다.",
        es: "Las opciones seleccionadas no son válidas.",
        pt: "As opções selecionadas não são válidas.",
        vi: "Các mục đã chọn không hợp lệ.",
        tl: "Hindi wasto ang mga napiling opsyon.",
        ne: "छानिएका विकल्पहरू मान्य छैनन्।",
        id: "Pilihan yang dipilih tidak valid.",
        th: "ตัวเลือกที่เลือกไม่ถูกต้อง",
    }
    ORDER_NOT_FOUND {
        ja: "注文が見つかりません。",
        en: "No such order.",
        zh_hans: "找不到该订单。",
        zh_hant: "找不到該訂單。",
        ko: "주문을 찾을 수 없습니다.",
        es: "No se encontró la solicitud.",
        pt: "Pedido não encontrado.",
        vi: "Không tìm thấy đơn yêu cầu.",
        tl: "Hindi mahanap ang order.",
        ne: "आवेदन भेटिएन।",
        id: "Permohonan tidak ditemukan.",
        th: "ไม่พบคำขอ",
    }
    ORDER_BELONGS_TO_ANOTHER_COPIER {
        ja: "この証明書は別のマルチコピー機で申請されました。",
        en: "This document was ordered at another copier.",
        zh_hans: "此证明书是在另一台多功能复印机上申请的。",
        zh_hant: "此證明書是在另一台多功能事務機上申請的。",
        ko: "이 증명서는 다른 멀티 복합기에서 신청되었습니다.",
        es: "Este certificado se solicitó en otra fotocopiadora multifunción.",
        pt: "Este certificado foi solicitado em outra copiadora multifuncional.",
        vi: "Giấy chứng nhận này đã được yêu cầu trên một máy photocopy đa năng khác.",
        tl: "Hiniling ang sertipikong ito sa ibang multifunction copier.",
        ne: "यो प्रमाणपत्रका लागि अर्को बहुउद्देश्यीय फोटोकपी मेसिनबाट आवेदन गरिएको थियो।",
        id: "Dokumen ini dimohonkan di mesin fotokopi multifungsi lain.",
        th: "เอกสารนี้ถูกขอจากเครื่องถ่ายเอกสารมัลติฟังก์ชันเครื่องอื่น",
    }
    ORDER_SESSION_MISMATCH {
        ja: "この証明書は別のセッションのものです。",
        en: "This document belongs to another session.",
        zh_hans: "此证明书属于其他会话。",
        zh_hant: "此證明書屬於其他工作階段。",
        ko: "이 증명서는 다른 세션의 것입니다.",
        es: "Este certificado pertenece a otra sesión.",
        pt: "Este certificado pertence a outra sessão.",
        vi: "Giấy chứng nhận này thuộc về một phiên khác.",
        tl: "Ang sertipikong ito ay para sa ibang session.",
        ne: "यो प्रमाणपत्र अर्को सत्रको हो।",
        id: "Dokumen ini milik sesi lain.",
        th: "เอกสารนี้เป็นของเซสชันอื่น",
    }
    DOCUMENT_NOT_READY {
        ja: "証明書を作成中です。しばらくしてから再度お試しください。",
        en: "The document is being prepared. Please retry shortly.",
        zh_hans: "证明书正在制作中。请稍后再试。",
        zh_hant: "證明書製作中。請稍後再試。",
        ko: "증명서를 작성하는 중입니다. 잠시 후 다시 시도해 주십시오.",
        es: "El certificado se está preparando. Inténtelo de nuevo en unos momentos.",
        pt: "O certificado está sendo preparado. Tente novamente em instantes.",
        vi: "Giấy chứng nhận đang được chuẩn bị. Vui lòng thử lại sau giây lát.",
        tl: "Inihahanda pa ang sertipiko. Pakisubukang muli maya-maya.",
        ne: "प्रमाणपत्र तयार हुँदैछ। कृपया केही बेरपछि फेरि प्रयास गर्नुहोस्।",
        id: "Dokumen sedang disiapkan. Silakan coba lagi sebentar lagi.",
        th: "กำลังจัดเตรียมเอกสาร กรุณาลองใหม่อีกครั้งในอีกสักครู่",
    }
    ORDER_VOIDED {
        ja: "この申請は取り消されました。もう一度申請してください。",
        en: "This order was cancelled; please order again.",
        zh_hans: "此申请已被取消。请重新申请。",
        zh_hant: "此申請已被取消。請重新申請。",
        ko: "이 신청은 취소되었습니다. 다시 신청해 주십시오.",
        es: "Esta solicitud se ha cancelado. Vuelva a realizarla.",
        pt: "Este pedido foi cancelado. Faça o pedido novamente.",
        vi: "Yêu cầu này đã bị hủy. Vui lòng yêu cầu lại.",
        tl: "Kinansela ang order na ito. Pakiulit ang pag-order.",
        ne: "यो आवेदन रद्द गरिएको छ। कृपया फेरि आवेदन गर्नुहोस्।",
        id: "Permohonan ini telah dibatalkan. Silakan ajukan kembali.",
        th: "คำขอนี้ถูกยกเลิกแล้ว กรุณายื่นคำขอใหม่",
    }
    ORDER_ALREADY_PRINTED {
        ja: "この申請は印刷済みです。",
        en: "This order was already printed.",
        zh_hans: "此申请已打印。",
        zh_hant: "此申請已列印。",
        ko: "이 신청은 이미 인쇄되었습니다.",
        es: "Esta solicitud ya se imprimió.",
        pt: "Este pedido já foi impresso.",
        vi: "Yêu cầu này đã được in.",
        tl: "Na-print na ang order na ito.",
        ne: "यो आवेदनको प्रमाणपत्र पहिले नै छापिसकिएको छ।",
        id: "Permohonan ini sudah dicetak.",
        th: "คำขอนี้ถูกพิมพ์ไปแล้ว",
    }
    ORDER_NOT_DELIVERED {
        ja: "証明書はまだ送信されていません。",
        en: "The document has not been delivered yet.",
        zh_hans: "证明书尚未发送。",
        zh_hant: "證明書尚未傳送。",
        ko: "증명서가 아직 전송되지 않았습니다.",
        es: "El certificado aún no se ha enviado.",
        pt: "O certificado ainda não foi enviado.",
        vi: "Giấy chứng nhận chưa được gửi.",
        tl: "Hindi pa naipapadala ang sertipiko.",
        ne: "प्रमाणपत्र अझै पठाइएको छैन।",
        id: "Dokumen belum dikirim.",
        th: "ยังไม่ได้ส่งเอกสาร",
    }
    OPERATOR_ROLE_REQUIRED {
        ja: "この操作には適切な権限を持つ運用者証明書が必要です。",
        en: "This operation needs an operator certificate with the right role.",
        zh_hans: "此操作需要具有相应权限的运维人员证书。",
        zh_hant: "此操作需要具備適當權限的營運人員憑證。",
        ko: "이 작업에는 적절한 권한을 가진 운영자 인증서가 필요합니다.",
        es: "Esta operación requiere un certificado de operador con los permisos adecuados.",
        pt: "Esta operação exige um certificado de operador com a permissão adequada.",
        vi: "Thao tác này cần chứng thư số của người vận hành có quyền phù hợp.",
        tl: "Kailangan ng operator certificate na may tamang pahintulot para sa operasyong ito.",
        ne: "यो कार्यका लागि उपयुक्त अधिकार भएको सञ्चालक प्रमाणपत्र आवश्यक छ।",
        id: "Operasi ini memerlukan sertifikat operator dengan hak akses yang sesuai.",
        th: "การดำเนินการนี้ต้องใช้ใบรับรองผู้ปฏิบัติงานที่มีสิทธิ์ที่เหมาะสม",
    }
    EVENT_MALFORMED {
        ja: "証明書イベントの形式が正しくありません。",
        en: "The certificate event is malformed.",
        zh_hans: "证书事件的格式不正确。",
        zh_hant: "憑證事件的格式不正確。",
        ko: "인증서 이벤트의 형식이 올바르지 않습니다.",
        es: "El formato del evento de certificado no es válido.",
        pt: "O formato do evento de certificado não é válido.",
        vi: "Sự kiện chứng thư số không đúng định dạng.",
        tl: "Hindi wasto ang format ng certificate event.",
        ne: "प्रमाणपत्र घटनाको ढाँचा सही छैन।",
        id: "Format peristiwa sertifikat tidak valid.",
        th: "รูปแบบเหตุการณ์ของใบรับรองไม่ถูกต้อง",
    }
    EVENT_ID_REUSED {
        ja: "このイベントIDは別のイベントに使用されています。",
        en: "This event id was already used for a different event.",
        zh_hans: "此事件ID已用于其他事件。",
        zh_hant: "此事件 ID 已用於其他事件。",
        ko: "이 이벤트 ID는 다른 이벤트에 사용되었습니다.",
        es: "Este identificador de evento ya se utilizó para otro evento.",
        pt: "Este identificador de evento já foi usado para outro evento.",
        vi: "Mã sự kiện này đã được dùng cho một sự kiện khác.",
        tl: "Nagamit na ang event ID na ito sa ibang event.",
        ne: "यो घटना आईडी अर्को घटनामा प्रयोग भइसकेको छ।",
        id: "ID peristiwa ini sudah digunakan untuk peristiwa lain.",
        th: "รหัสเหตุการณ์นี้ถูกใช้กับเหตุการณ์อื่นแล้ว",
    }
    SERIAL_LINKED_ELSEWHERE {
        ja: "この証明書シリアル番号は別の住民と紐付いています。",
        en: "The certificate serial is already linked to another resident.",
        zh_hans: "此证书序列号已与其他居民关联。",
        zh_hant: "此憑證序號已與其他居民連結。",
        ko: "이 인증서 일련번호는 다른 주민과 연결되어 있습니다.",
        es: "Este número de serie de certificado ya está vinculado a otro residente.",
        pt: "Este número de série do certificado já está vinculado a outro residente.",
        vi: "Số sê-ri chứng thư số này đã được liên kết với một cư dân khác.",
        tl: "Naka-link na sa ibang residente ang serial number ng sertipikong ito.",
        ne: "यो प्रमाणपत्रको क्रम संख्या अर्को बासिन्दासँग जोडिसकिएको छ।",
        id: "Nomor seri sertifikat ini sudah terhubung dengan penduduk lain.",
        th: "หมายเลขซีเรียลของใบรับรองนี้เชื่อมโยงกับผู้มีถิ่นที่อยู่รายอื่นแล้ว",
    }
    RESIDENT_NOT_FOUND {
        ja: "該当する住民票コードの住民は登録されていません。",
        en: "No resident with that resident code is registered.",
        zh_hans: "未登记该住民票代码对应的居民。",
        zh_hant: "未登錄該住民票代碼對應的居民。",
        ko: "해당 주민표 코드의 주민이 등록되어 있지 않습니다.",
        es: "No hay ningún residente registrado con ese código de residente.",
        pt: "Não há residente registrado com esse código de residente.",
        vi: "Không có cư dân nào được đăng ký với mã phiếu cư trú này.",
        tl: "Walang nakarehistrong residente na may ganoong resident code.",
        ne: "त्यो बासिन्दा कोड भएको कुनै बासिन्दा दर्ता गरिएको छैन।",
        id: "Tidak ada penduduk terdaftar dengan kode penduduk tersebut.",
        th: "ไม่พบผู้มีถิ่นที่อยู่ที่ลงทะเบียนด้วยรหัสผู้มีถิ่นที่อยู่ดังกล่าว",
    }
    SERIAL_NOT_LINKED {
        ja: "この証明書シリアル番号は住民と紐付いていません。",
        en: "The certificate serial is not linked to a resident.",
        zh_hans: "此证书序列号未与任何居民关联。",
        zh_hant: "此憑證序號未與任何居民連結。",
        ko: "이 인증서 일련번호는 주민과 연결되어 있지 않습니다.",
        es: "Este número de serie de certificado no está vinculado a ningún residente.",
        pt: "Este número de série do certificado não está vinculado a nenhum residente.",
        vi: "Số sê-ri chứng thư số này chưa được liên kết với cư dân nào.",
        tl: "Hindi naka-link sa anumang residente ang serial number ng sertipikong ito.",
        ne: "यो प्रमाणपत्रको क्रम संख्या कुनै बासिन्दासँग जोडिएको छैन।",
        id: "Nomor seri sertifikat ini tidak terhubung dengan penduduk mana pun.",
        th: "หมายเลขซีเรียลของใบรับรองนี้ไม่ได้เชื่อมโยงกับผู้มีถิ่นที่อยู่",
    }
    SERIAL_NOT_ACTIVE {
        ja: "この証明書シリアル番号は一時保留中または失効しています。",
        en: "The certificate serial is suspended or revoked.",
        zh_hans: "此证书序列号已暂停使用或已失效。",
        zh_hant: "此憑證序號已暫停使用或已失效。",
        ko: "이 인증서 일련번호는 일시 정지 중이거나 폐지되었습니다.",
        es: "Este número de serie de certificado está suspendido temporalmente o revocado.",
        pt: "Este número de série do certificado está suspenso temporariamente ou revogado.",
        vi: "Số sê-ri chứng thư số này đang bị tạm dừng hoặc đã bị thu hồi.",
        tl: "Pansamantalang suspendido o binawi na ang serial number ng sertipikong ito.",
        ne: "यो प्रमाणपत्रको क्रम संख्या अस्थायी रूपमा निलम्बित वा खारेज गरिएको छ।",
        id: "Nomor seri sertifikat ini ditangguhkan atau dicabut.",
        th: "หมายเลขซีเรียลของใบรับรองนี้ถูกระงับชั่วคราวหรือถูกเพิกถอนแล้ว",
    }
    VERIFICATION_CODE_MALFORMED {
        ja: "検証コードの形式が正しくありません。証明書に印刷された16文字(XXXX-XXXX-XXXX-X)を確かめてください。",
        en: "This is not a valid verification code. Check the 16 characters (XXXX-XXXX-XXXX-X) printed on the certificate.",
        zh_hans: "验证码格式不正确。请核对证明书上印刷的16个字符(XXXX-XXXX-XXXX-X)。",
        zh_hant: "驗證碼格式不正確。請核對證明書上印刷的16個字元(XXXX-XXXX-XXXX-X)。",
        ko: "검증 코드 형식이 올바르지 않습니다. 증명서에 인쇄된 16자(XXXX-XXXX-XXXX-X)를 확인해 주십시오.",
        es: "El código de verificación no es válido. Compruebe los 16 caracteres (XXXX-XXXX-XXXX-X) impresos en el certificado.",
        pt: "O código de verificação não é válido. Confira os 16 caracteres (XXXX-XXXX-XXXX-X) impressos no certificado.",
        vi: "Mã xác minh không hợp lệ. Hãy kiểm tra 16 ký tự (XXXX-XXXX-XXXX-X) in trên giấy chứng nhận.",
        tl: "Hindi wastong verification code ito. Suriin ang 16 na character (XXXX-XXXX-XXXX-X) na nakalimbag sa sertipiko.",
        ne: "प्रमाणीकरण कोड मान्य छैन। प्रमाणपत्रमा छापिएका १६ अक्षर (XXXX-XXXX-XXXX-X) जाँच गर्नुहोस्।",
        id: "Kode verifikasi tidak valid. Periksa 16 karakter (XXXX-XXXX-XXXX-X) yang tercetak pada sertifikat.",
        th: "รหัสตรวจสอบไม่ถูกต้อง โปรดตรวจสอบอักขระ 16 ตัว (XXXX-XXXX-XXXX-X) ที่พิมพ์บนหนังสือรับรอง",
    }
    DOCUMENT_NOT_FOUND {
        ja: "この検証コードの証明書はありません。",
        en: "No certificate has this verification code.",
        zh_hans: "没有与此验证码对应的证明书。",
        zh_hant: "沒有與此驗證碼對應的證明書。",
        ko: "이 검증 코드에 해당하는 증명서가 없습니다.",
        es: "Ningún certificado tiene este código de verificación.",
        pt: "Nenhum certificado tem este código de verificação.",
        vi: "Không có giấy chứng nhận nào có mã xác minh này.",
        tl: "Walang sertipikong may ganitong verification code.",
        ne: "यो प्रमाणीकरण कोड भएको कुनै प्रमाणपत्र छैन।",
        id: "Tidak ada sertifikat dengan kode verifikasi ini.",
        th: "ไม่มีหนังสือรับรองที่มีรหัสตรวจสอบนี้",
    }
    DIGEST_MALFORMED {
        ja: "ダイジェストの形式が正しくありません(base64url の32バイト)。",
        en: "The digest is malformed (32 bytes, base64url).",
        zh_hans: "摘要格式不正确(32字节,base64url)。",
        zh_hant: "摘要格式不正確(32位元組,base64url)。",
        ko: "다이제스트 형식이 올바르지 않습니다(32바이트, base64url).",
        es: "El resumen no es válido (32 bytes en base64url).",
        pt: "O resumo não é válido (32 bytes em base64url).",
        vi: "Giá trị băm không hợp lệ (32 byte, base64url).",
        tl: "Mali ang anyo ng digest (32 byte, base64url).",
        ne: "डाइजेस्टको ढाँचा मिलेन (३२ बाइट, base64url)।",
        id: "Digest tidak valid (32 byte, base64url).",
        th: "ค่าไดเจสต์ไม่ถูกต้อง (32 ไบต์ แบบ base64url)",
    }
    RATE_LIMITED {
        ja: "短時間の照会が多すぎます。しばらくしてからもう一度お試しください。",
        en: "Too many look-ups in a short time. Please try again shortly.",
        zh_hans: "短时间内查询次数过多。请稍后再试。",
        zh_hant: "短時間內查詢次數過多。請稍後再試。",
        ko: "짧은 시간에 조회가 너무 많습니다. 잠시 후 다시 시도해 주십시오.",
        es: "Demasiadas consultas en poco tiempo. Inténtelo de nuevo en breve.",
        pt: "Consultas demais em pouco tempo. Tente novamente em instantes.",
        vi: "Tra cứu quá nhiều trong thời gian ngắn. Vui lòng thử lại sau ít phút.",
        tl: "Masyadong maraming paghahanap sa maikling panahon. Subukang muli mamaya.",
        ne: "छोटो समयमा धेरै खोजी भयो। केही बेरपछि फेरि प्रयास गर्नुहोस्।",
        id: "Terlalu banyak pencarian dalam waktu singkat. Silakan coba lagi sebentar lagi.",
        th: "มีการตรวจสอบมากเกินไปในเวลาสั้น ๆ โปรดลองใหม่อีกครั้งในภายหลัง",
    }
    SIGNING_KEY_NOT_FOUND {
        ja: "この市区町村にその署名鍵はありません。",
        en: "The municipality has no such signing key.",
        zh_hans: "该市区町村没有此签名密钥。",
        zh_hant: "該市區町村沒有此簽章金鑰。",
        ko: "해당 시구정촌에 그 서명 키가 없습니다.",
        es: "El municipio no tiene esa clave de firma.",
        pt: "O município não tem essa chave de assinatura.",
        vi: "Địa phương không có khóa ký này.",
        tl: "Walang ganitong signing key ang munisipyo.",
        ne: "नगरपालिकासँग त्यस्तो हस्ताक्षर कुञ्जी छैन।",
        id: "Pemerintah daerah tidak memiliki kunci tanda tangan tersebut.",
        th: "เทศบาลไม่มีกุญแจลงนามนี้",
    }
    MUNICIPALITY_NOT_FOUND {
        ja: "その市区町村は登録されていません。",
        en: "No such municipality is registered.",
        zh_hans: "该市区町村未登记。",
        zh_hant: "該市區町村未登記。",
        ko: "해당 시구정촌은 등록되어 있지 않습니다.",
        es: "Ese municipio no está registrado.",
        pt: "Esse município não está registrado.",
        vi: "Địa phương này chưa được đăng ký.",
        tl: "Hindi nakarehistro ang munisipyong iyon.",
        ne: "त्यस्तो नगरपालिका दर्ता गरिएको छैन।",
        id: "Pemerintah daerah tersebut tidak terdaftar.",
        th: "ไม่มีเทศบาลนี้ในระบบ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::i18n::Lang;

    #[test]
    fn every_entry_has_every_language_and_none_is_left_in_english() {
        assert!(ALL.len() >= 50, "{} entries", ALL.len());
        for (name, text) in ALL {
            let en = text.get(Lang::En);
            for lang in Lang::ALL {
                let t = text.get(lang);
                assert!(!t.trim().is_empty(), "{name} has no {} text", lang.tag());
                if lang != Lang::En {
                    assert_ne!(t, en, "{name}: the {} text is the English one", lang.tag());
                }
            }
        }
    }

    #[test]
    fn entry_names_are_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
